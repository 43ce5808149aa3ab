package io.strata.metadata;

import java.util.Map;

/**
 * What compaction keeps per metadata shard ({@code index/{shard}/state}): the sequence its next index entry
 * gets, and the partitions whose start retention moved, with the first offset kept. Producers never write
 * it, so compaction and commits never conflict on it.
 */
public record ShardState(long nextSequence, Map<PartitionId, Long> logStarts) {
    public static final ShardState INITIAL = new ShardState(KeyLayout.COMPACTION_SEQUENCE_BASE, Map.of());

    public ShardState {
        if (nextSequence < KeyLayout.COMPACTION_SEQUENCE_BASE) {
            throw new IllegalArgumentException("compaction sequence " + nextSequence + " below its base");
        }
        logStarts = Map.copyOf(logStarts);
    }

    /** The first offset kept of the partition (0 when retention never moved it). */
    public long logStart(PartitionId partition) {
        return logStarts.getOrDefault(partition, 0L);
    }
}
