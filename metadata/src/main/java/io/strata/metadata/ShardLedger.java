package io.strata.metadata;

import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What commits to one shard decide against, kept in memory instead of in the shard's head: each partition's
 * next offset and, once a commit needed them, the shard's idempotent producers. It stands at a commit
 * sequence ({@link #applied()}): it holds what every commit before that sequence did. It moves forward by
 * folding the shard's commit entries in sequence order (each carries its chunks' offsets and the producer
 * batches it appended), and is built anew from the whole shard when it is first used or when entries it has
 * not folded were merged away by compaction.
 *
 * <p>Not thread-safe: {@link ShardLedgers} serialises access.
 */
final class ShardLedger {
    private long applied;
    private final Map<PartitionId, Long> nextOffsets;
    private final ProducerStates producers;
    private long expiredAtMs;

    private ShardLedger(long applied, Map<PartitionId, Long> nextOffsets, ProducerStates producers) {
        this.applied = applied;
        this.nextOffsets = nextOffsets;
        this.producers = producers;
    }

    /**
     * The ledger of a shard read whole at one revision.
     *
     * @param headSequence the head's sequence, read before the shard: commit entries below it that are not
     *                     in {@code entries} were merged away
     * @param entries      every index entry of the shard (commit entries, rewritten ones and segments)
     * @param snapshot     the producer snapshot {@code state} references, loaded (empty when it has no object),
     *                     or null to leave producers unloaded
     */
    static ShardLedger rebuild(long headSequence, ShardState state, List<IndexEntry> entries, ProducerStates snapshot) {
        Map<PartitionId, Long> next = new HashMap<>(state.logStarts());
        long applied = Math.max(headSequence, state.producersCoverBefore());
        for (IndexEntry e : entries) {
            advance(next, e);
            if (e.segment() != null) {
                next.merge(e.segment().partition(), e.segment().endOffset(), Math::max);
            }
            if (e.sequence() < KeyLayout.COMPACTION_SEQUENCE_BASE) {
                applied = Math.max(applied, e.sequence() + 1);
            }
        }
        if (snapshot != null) {
            long covered = state.producersCoverBefore();
            entries.stream().filter(e -> e.sequence() >= covered && e.sequence() < KeyLayout.COMPACTION_SEQUENCE_BASE)
                    .sorted(Comparator.comparingLong(IndexEntry::sequence)).forEach(snapshot::fold);
        }
        return new ShardLedger(applied, next, snapshot);
    }

    /** The sequence of the next commit entry to fold: the ledger holds every commit before it. */
    long applied() {
        return applied;
    }

    boolean hasProducers() {
        return producers != null;
    }

    long nextOffset(PartitionId partition) {
        return nextOffsets.getOrDefault(partition, 0L);
    }

    /** The producer's state in the partition; null when it has none (the producers must be loaded). */
    ProducerState producer(PartitionId partition, long producerId) {
        return producers.get(partition, producerId);
    }

    /** The partition's producers' states, by producer id (the producers must be loaded). */
    List<ProducerState> producers(PartitionId partition) {
        Map<Long, ProducerState> states = producers.byPartition().get(partition);
        return states == null ? List.of() : states.values().stream()
                .sorted(Comparator.comparingLong(ProducerState::producerId)).toList();
    }

    /** Folds the commit entry at the ledger's sequence; false, changing nothing, for any other entry. */
    boolean fold(IndexEntry entry) {
        if (entry.sequence() != applied) {
            return false;
        }
        advance(nextOffsets, entry);
        if (producers != null) {
            producers.fold(entry);
        }
        applied++;
        return true;
    }

    /** Moves each partition of the entry's chunks past its last chunk. */
    private static void advance(Map<PartitionId, Long> nextOffsets, IndexEntry entry) {
        for (ChunkRef c : entry.chunks()) {
            nextOffsets.merge(c.partition(), c.baseOffset() + c.recordCount(), Math::max);
        }
    }

    /** Keeps only the partitions of topics {@code keep} accepts (the others were deleted). */
    void retainTopics(java.util.function.LongPredicate keep) {
        nextOffsets.keySet().removeIf(p -> !keep.test(p.topicId()));
        if (producers != null) {
            producers.retainTopics(keep);
        }
    }

    /** Drops producers idle for {@code expiryMs}, at most once a minute (it walks every state). */
    void expire(long nowMs, long expiryMs) {
        if (producers != null && nowMs - expiredAtMs >= 60_000) {
            expiredAtMs = nowMs;
            producers.expire(nowMs - expiryMs);
        }
    }

    /** How many (partition, producer) states it keeps (0 when not loaded). */
    long producerStates() {
        return producers == null ? 0 : producers.size();
    }
}
