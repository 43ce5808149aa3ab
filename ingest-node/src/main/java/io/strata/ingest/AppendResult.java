package io.strata.ingest;

/** Where a {@link PartitionBatch} landed: consecutive offsets from {@code baseOffset} (-1 when not awaited). */
public record AppendResult(int entryIndex, String topic, int partition, long baseOffset, int recordCount,
                           long logAppendTimeMs) {
}
