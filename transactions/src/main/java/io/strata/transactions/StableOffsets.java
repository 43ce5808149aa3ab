package io.strata.transactions;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/**
 * What read-committed readers of a partition must not pass, from the transactional ids' records: the start of each
 * transaction open (or being aborted) on it. A partition's last stable offset is the least such start, or its end
 * when none holds it back (docs/transactions.md). Kept current one record at a time, as a node's watch delivers
 * them. Not thread-safe: the watch's thread keeps it, readers ask through whoever owns it.
 */
public final class StableOffsets {
    /** A partition, by topic id. */
    public record Partition(long topicId, int partition) {
    }

    /** Each transactional id's holds as last seen: the partitions and their starts. */
    private final Map<String, List<TxnPartition>> holdsById = new HashMap<>();
    /** Per partition, the starts held there, counted (two transactions may hold one start). */
    private final Map<Partition, TreeMap<Long, Integer>> holds = new HashMap<>();

    /**
     * The id's record as it is now (null: removed). Replaces whatever the id held before: a transaction that
     * ended lets go of its partitions.
     */
    public Set<Partition> apply(String transactionalId, TransactionRecord record) {
        Objects.requireNonNull(transactionalId, "transactionalId");
        List<TxnPartition> before = holdsById.remove(transactionalId);
        List<TxnPartition> after = record == null || record.state() == TransactionRecord.State.READY ? List.of()
                : record.partitions();
        Set<Partition> moved = new java.util.HashSet<>();
        if (before != null) {
            for (TxnPartition p : before) {
                Partition key = new Partition(p.topicId(), p.partition());
                TreeMap<Long, Integer> starts = holds.get(key);
                starts.merge(p.startOffset(), -1, (a, b) -> a + b == 0 ? null : a + b);
                if (starts.isEmpty()) {
                    holds.remove(key);
                }
                moved.add(key);
            }
        }
        if (!after.isEmpty()) {
            holdsById.put(transactionalId, after);
            for (TxnPartition p : after) {
                Partition key = new Partition(p.topicId(), p.partition());
                holds.computeIfAbsent(key, k -> new TreeMap<>()).merge(p.startOffset(), 1, Integer::sum);
                moved.add(key);
            }
        }
        return moved;
    }

    /** The least start of a transaction open on the partition, or empty when none is. */
    public OptionalLong heldAt(long topicId, int partition) {
        TreeMap<Long, Integer> starts = holds.get(new Partition(topicId, partition));
        return starts == null ? OptionalLong.empty() : OptionalLong.of(starts.firstKey());
    }

    /** The partition's last stable offset, given its end. */
    public long lastStable(long topicId, int partition, long endOffset) {
        OptionalLong held = heldAt(topicId, partition);
        return held.isPresent() ? Math.min(held.getAsLong(), endOffset) : endOffset;
    }

    /** Transactional ids holding any partition back. */
    public int holding() {
        return holdsById.size();
    }
}
