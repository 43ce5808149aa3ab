package io.strata.metadata;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * The idempotent producers of some partitions, folded from the producer batches that commits appended
 * ({@link IndexEntry#appends()}) in the order of the commits. What a commit checks sequences against, and what
 * compaction writes to object storage as a snapshot before it merges the entries that carried the batches
 * away. Its size grows with the producers that wrote within the expiry, never with the records they wrote:
 * each producer keeps its last {@link ProducerBatch#RETRY_WINDOW} batches per partition.
 *
 * <p>Mutable and not thread-safe: its owner serialises access.
 */
public final class ProducerStates {
    private final Map<PartitionId, Map<Long, ProducerState>> byPartition = new HashMap<>();

    /** The producer's state in the partition, or null when it wrote none there within the expiry. */
    public ProducerState get(PartitionId partition, long producerId) {
        Map<Long, ProducerState> states = byPartition.get(partition);
        return states == null ? null : states.get(producerId);
    }

    /** Records one appended batch, committed at {@code atMs}. */
    public void fold(ProducerAppend append, long atMs) {
        Map<Long, ProducerState> states = byPartition.computeIfAbsent(append.partition(), p -> new HashMap<>());
        states.put(append.producerId(), ProducerState.after(states.get(append.producerId()), append, atMs,
                ProducerBatch.RETRY_WINDOW));
    }

    /** Records every batch a commit appended with the entry (none for segment entries). */
    public void fold(IndexEntry entry) {
        entry.appends().forEach(a -> fold(a, entry.committedAtMs()));
    }

    /** Puts a state as a snapshot had it. */
    public void put(PartitionId partition, ProducerState state) {
        byPartition.computeIfAbsent(partition, p -> new HashMap<>()).put(state.producerId(), state);
    }

    /** Drops the producers that last wrote before {@code beforeMs}; answers how many states went. */
    public long expire(long beforeMs) {
        long dropped = 0;
        for (var partitions = byPartition.values().iterator(); partitions.hasNext(); ) {
            Map<Long, ProducerState> states = partitions.next();
            int size = states.size();
            states.values().removeIf(s -> s.lastWriteMs() < beforeMs);
            dropped += size - states.size();
            if (states.isEmpty()) {
                partitions.remove();
            }
        }
        return dropped;
    }

    /** Keeps only the partitions of topics {@code keep} accepts (the others were deleted). */
    public void retainTopics(java.util.function.LongPredicate keep) {
        for (var partitions = byPartition.entrySet().iterator(); partitions.hasNext(); ) {
            var e = partitions.next();
            if (!keep.test(e.getKey().topicId())) {
                partitions.remove();
            }
        }
    }

    /** The states by partition and producer id, unmodifiable (a view: valid until the next change). */
    public Map<PartitionId, Map<Long, ProducerState>> byPartition() {
        return Collections.unmodifiableMap(byPartition);
    }

    /** How many (partition, producer) states are kept (counted: a walk over the partitions). */
    public long size() {
        long n = 0;
        for (Map<Long, ProducerState> states : byPartition.values()) {
            n += states.size();
        }
        return n;
    }
}
