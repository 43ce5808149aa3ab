package io.strata.ingest;

import io.strata.metadata.BatchOutcome;

/**
 * Where a {@link PartitionBatch} landed: consecutive offsets from {@code baseOffset} (-1 when not awaited or
 * refused). {@code duplicate}: an idempotent retry of records stored before, whose offsets these are.
 * {@code refused}: an idempotent batch out of sequence, of which nothing was stored (null otherwise).
 */
public record AppendResult(int entryIndex, String topic, int partition, long baseOffset, int recordCount,
                           long logAppendTimeMs, boolean duplicate, BatchOutcome.Rejected refused) {
    public AppendResult(int entryIndex, String topic, int partition, long baseOffset, int recordCount,
                        long logAppendTimeMs) {
        this(entryIndex, topic, partition, baseOffset, recordCount, logAppendTimeMs, false, null);
    }
}
