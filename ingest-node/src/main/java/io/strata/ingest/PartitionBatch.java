package io.strata.ingest;

import io.strata.metadata.PartitionId;
import io.strata.storage.format.LogRecord;
import java.util.List;

/**
 * Validated records for one partition, from one entry of a produce request. With an idempotent producer,
 * {@code producerId} is its id and the records carry sequences from {@code baseSequence}; otherwise
 * {@code producerId} is 0.
 */
public record PartitionBatch(int entryIndex, String topic, PartitionId partition, List<LogRecord> records,
                             long producerId, long baseSequence) {
    public PartitionBatch {
        if (records == null || records.isEmpty()) {
            throw new IllegalArgumentException("empty batch for " + topic + "/" + partition);
        }
        if (producerId < 0 || (producerId > 0 && baseSequence < 0)) {
            throw new IllegalArgumentException("invalid producer " + producerId + " or sequence " + baseSequence);
        }
        records = List.copyOf(records);
    }

    public PartitionBatch(int entryIndex, String topic, PartitionId partition, List<LogRecord> records) {
        this(entryIndex, topic, partition, records, 0, 0);
    }

    public boolean idempotent() {
        return producerId > 0;
    }

    public long sizeUpperBound() {
        long size = 0;
        for (LogRecord r : records) {
            size += r.encodedSizeUpperBound();
        }
        return size;
    }
}
