package io.strata.ingest;

import io.strata.format.BatchInfo;
import io.strata.format.LogRecord;
import io.strata.metadata.PartitionId;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Validated records for one partition, from one entry of a produce request: either records one by one
 * ({@code records}), or a batch the producer encoded and compressed ({@code encoded}, checked, with its
 * header {@code info}). With an idempotent producer, {@code producerId} is its id and the records carry
 * sequences from {@code baseSequence}; otherwise {@code producerId} is 0. {@code producerEpoch}: a transactional
 * producer's transaction epoch (docs/transactions.md), 0 otherwise.
 */
public record PartitionBatch(int entryIndex, String topic, PartitionId partition, List<LogRecord> records,
                             ByteBuffer encoded, BatchInfo info, long producerId, long baseSequence,
                             long producerEpoch) {
    public PartitionBatch {
        if ((records == null) == (encoded == null) || (encoded != null && info == null)
                || (records != null && records.isEmpty())) {
            throw new IllegalArgumentException("a batch for " + topic + "/" + partition
                    + " holds either records or one encoded batch");
        }
        if (producerId < 0 || (producerId > 0 && baseSequence < 0) || producerEpoch < 0
                || (producerId == 0 && producerEpoch != 0)) {
            throw new IllegalArgumentException("invalid producer " + producerId + " or sequence " + baseSequence);
        }
        records = records == null ? null : List.copyOf(records);
    }

    public PartitionBatch(int entryIndex, String topic, PartitionId partition, List<LogRecord> records) {
        this(entryIndex, topic, partition, records, null, null, 0, 0, 0);
    }

    /** A batch of a producer that is idempotent only, or of none. */
    public PartitionBatch(int entryIndex, String topic, PartitionId partition, List<LogRecord> records,
                          ByteBuffer encoded, BatchInfo info, long producerId, long baseSequence) {
        this(entryIndex, topic, partition, records, encoded, info, producerId, baseSequence, 0);
    }

    public boolean idempotent() {
        return producerId > 0;
    }

    public int recordCount() {
        return records != null ? records.size() : info.recordCount();
    }

    /** Bytes its records take inflated: what the batch's header says, or the records as given. */
    public long uncompressedBytes() {
        if (encoded != null) {
            return info.uncompressedLength();
        }
        long size = 0;
        for (LogRecord r : records) {
            size += r.encodedSizeUpperBound();
        }
        return size;
    }

    /**
     * Memory it takes in a block at most: the encoded batch as it is, or the records before compression with
     * what each record object costs beside its bytes (an empty record is not free).
     */
    public long sizeUpperBound() {
        return encoded != null ? info.sizeBytes() : uncompressedBytes() + (long) records.size() * RECORD_OBJECT_BYTES;
    }

    /** What a record object, its arrays and its place in the block's lists take beside its bytes. */
    public static final int RECORD_OBJECT_BYTES = 64;
}
