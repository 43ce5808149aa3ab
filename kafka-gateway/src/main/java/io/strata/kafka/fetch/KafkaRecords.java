package io.strata.kafka.fetch;

import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.Header;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;

/**
 * Strata records as one Kafka record batch (magic 2, CreateTime, uncompressed: on the way to a client on the
 * same network inflating once here costs less than deflating again). Offsets are the records' own, gaps left by
 * key compaction included. On a compacted topic an empty value is a tombstone and is sent as Kafka's null.
 */
public final class KafkaRecords {
    private KafkaRecords() {
    }

    /**
     * A batch with no records covering {@code [from, next)}: where key compaction left no record, a consumer
     * moves past the gap on it (as Kafka's own compacted logs send it) instead of asking for {@code from} again.
     */
    public static MemoryRecords gap(long from, long next) {
        ByteBuffer buffer = ByteBuffer.allocate(org.apache.kafka.common.record.DefaultRecordBatch.RECORD_BATCH_OVERHEAD);
        org.apache.kafka.common.record.DefaultRecordBatch.writeEmptyHeader(buffer, RecordBatch.MAGIC_VALUE_V2,
                RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE, from, next - 1,
                RecordBatch.NO_PARTITION_LEADER_EPOCH, TimestampType.CREATE_TIME, RecordBatch.NO_TIMESTAMP, false, false);
        buffer.flip();
        return MemoryRecords.readableRecords(buffer);
    }

    public static MemoryRecords of(List<ConsumedRecord> records, boolean emptyIsNull) {
        if (records.isEmpty()) {
            return MemoryRecords.EMPTY;
        }
        int size = 64;
        for (ConsumedRecord r : records) {
            size += 32 + r.getKey().size() + r.getValue().size();
            for (Header h : r.getHeadersList()) {
                size += 16 + h.getKeyBytes().size() + h.getValue().size();
            }
        }
        ByteBuffer buffer = ByteBuffer.allocate(size);
        MemoryRecordsBuilder builder = MemoryRecords.builder(buffer, RecordBatch.MAGIC_VALUE_V2, Compression.NONE,
                TimestampType.CREATE_TIME, records.get(0).getOffset());
        for (ConsumedRecord r : records) {
            org.apache.kafka.common.header.Header[] headers = new org.apache.kafka.common.header.Header[r.getHeadersCount()];
            for (int i = 0; i < headers.length; i++) {
                Header h = r.getHeaders(i);
                headers[i] = new RecordHeader(h.getKey(), h.getValue().toByteArray());
            }
            byte[] value = emptyIsNull && r.getValue().isEmpty() ? null : r.getValue().toByteArray();
            builder.appendWithOffset(r.getOffset(), r.getTimestampMs(), r.hasKey() ? r.getKey().toByteArray() : null,
                    value, headers);
        }
        return builder.build();
    }
}
