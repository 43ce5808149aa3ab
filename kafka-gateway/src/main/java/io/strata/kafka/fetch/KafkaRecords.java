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
