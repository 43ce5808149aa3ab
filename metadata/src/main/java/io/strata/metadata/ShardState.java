package io.strata.metadata;

import java.util.Map;

/**
 * What compaction keeps per metadata shard ({@code index/{shard}/state}): the sequence its next index entry
 * gets, the partitions whose start retention moved, with the first offset kept, where key compaction left the
 * partitions of compacted topics, and the shard's producer snapshot ({@code producers}, null before the first).
 * Producers never write it, so compaction and commits never conflict on it.
 */
public record ShardState(long nextSequence, Map<PartitionId, Long> logStarts, Map<PartitionId, KeyCleaning> cleanings,
                         ProducerSnapshotRef producers) {
    public static final ShardState INITIAL = new ShardState(KeyLayout.COMPACTION_SEQUENCE_BASE, Map.of());

    public ShardState {
        if (nextSequence < KeyLayout.COMPACTION_SEQUENCE_BASE) {
            throw new IllegalArgumentException("compaction sequence " + nextSequence + " below its base");
        }
        logStarts = Map.copyOf(logStarts);
        cleanings = Map.copyOf(cleanings);
    }

    /** A state with no partition key-compacted yet and no producer snapshot. */
    public ShardState(long nextSequence, Map<PartitionId, Long> logStarts) {
        this(nextSequence, logStarts, Map.of(), null);
    }

    /** A state with no producer snapshot. */
    public ShardState(long nextSequence, Map<PartitionId, Long> logStarts, Map<PartitionId, KeyCleaning> cleanings) {
        this(nextSequence, logStarts, cleanings, null);
    }

    /** The sequence below which commit entries may have been merged away (0: none yet). */
    public long producersCoverBefore() {
        return producers == null ? 0 : producers.coversBefore();
    }

    /** Where key compaction left the partition ({@link KeyCleaning#NEVER} before its first cleaning). */
    public KeyCleaning cleaning(PartitionId partition) {
        return cleanings.getOrDefault(partition, KeyCleaning.NEVER);
    }

    /** The first offset kept of the partition (0 when retention never moved it). */
    public long logStart(PartitionId partition) {
        return logStarts.getOrDefault(partition, 0L);
    }
}
