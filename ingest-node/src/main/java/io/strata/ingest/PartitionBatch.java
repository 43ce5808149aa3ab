package io.strata.ingest;

import io.strata.metadata.PartitionId;
import io.strata.storage.format.LogRecord;
import java.util.List;

/** Validated records for one partition, from one entry of a produce request. */
public record PartitionBatch(int entryIndex, String topic, PartitionId partition, List<LogRecord> records) {
    public PartitionBatch {
        if (records == null || records.isEmpty()) {
            throw new IllegalArgumentException("empty batch for " + topic + "/" + partition);
        }
        records = List.copyOf(records);
    }

    public long sizeUpperBound() {
        long size = 0;
        for (LogRecord r : records) {
            size += r.encodedSizeUpperBound();
        }
        return size;
    }
}
