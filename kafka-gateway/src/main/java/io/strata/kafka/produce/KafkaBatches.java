package io.strata.kafka.produce;

import io.strata.format.BatchBuilder;
import io.strata.format.BatchCodec;
import io.strata.format.BatchInfo;
import io.strata.format.LogRecord;
import io.strata.format.RecordHeader;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;

/**
 * A Kafka record batch as a Strata record batch (docs/block-format.md), built here so that the node stores it as
 * it is, as it stores the batches Strata's own Java client builds: the records never become protobuf objects,
 * and their compression runs on the door's conversion threads, beside other requests, instead of on the node's
 * one sealing thread. The batch is checked (CRC, magic, what Strata does not take yet) before any of it is
 * converted; records are inflated with Kafka's own codec (none, gzip, snappy, lz4, zstd) and counted as they
 * inflate, so a small batch that inflates past the limit is refused before it takes the memory, and each record
 * is held to the node's record size limit. Kafka's null value (a tombstone) becomes Strata's tombstone, an empty
 * value; a header's null value an empty one; a record without a timestamp takes the node's clock.
 */
public final class KafkaBatches {
    private KafkaBatches() {
    }

    /**
     * Decompression buffers kept per thread (a supplier is not thread-safe), as Kafka's broker keeps one per
     * request thread: without them every batch allocated (and zeroed) zstd's window buffers anew, a quarter of
     * the node's CPU under ProducerPerformance.
     */
    private static final ThreadLocal<org.apache.kafka.common.utils.BufferSupplier> BUFFERS =
            ThreadLocal.withInitial(org.apache.kafka.common.utils.BufferSupplier::create);

    /** Why a batch is refused, as the Kafka error its partition gets. */
    public static final class Refused extends RuntimeException {
        private final org.apache.kafka.common.protocol.Errors error;

        public Refused(org.apache.kafka.common.protocol.Errors error, String message) {
            super(message, null, false, false);
            this.error = error;
        }

        public org.apache.kafka.common.protocol.Errors error() {
            return error;
        }
    }

    /**
     * What one batch becomes: a Strata record batch (header and compressed frame) and what its header says, and
     * its producer's id and first sequence (-1 when not idempotent).
     */
    public record Converted(ByteBuffer batch, BatchInfo info, long producerId, int baseSequence, long inflatedBytes) {
    }

    /**
     * How batches are converted: the node's limits of a record's size and of a produce request's records as they
     * inflate (what its ingest handler would refuse), the compression level, the node's clock.
     */
    public record Limits(int maxRecordBytes, int maxRequestBytes, int compressionLevel, java.time.Clock clock) {
    }

    /**
     * Checks and converts one batch; {@code budget} is how many bytes its records may take at most, inflated and
     * encoded as Strata stores them (what the node counts against its request limit).
     */
    public static Converted convert(RecordBatch batch, long budget, Limits limits) {
        if (batch.magic() < RecordBatch.MAGIC_VALUE_V2) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.UNSUPPORTED_FOR_MESSAGE_FORMAT,
                    "record batches of magic " + batch.magic() + " are not taken: produce with a client of Kafka 0.11 or later");
        }
        try {
            batch.ensureValid();
        } catch (CorruptRecordException | InvalidRecordException e) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.CORRUPT_MESSAGE, e.getMessage());
        }
        if (batch.isControlBatch()) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.INVALID_RECORD,
                    "control batches are not a producer's to write");
        }
        if (batch.timestampType() == TimestampType.LOG_APPEND_TIME) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.INVALID_TIMESTAMP,
                    "a producer's batch cannot carry LogAppendTime");
        }
        BatchBuilder out = new BatchBuilder(Math.max(1024, Math.min(1 << 20, 2 * batch.sizeInBytes())));
        long inflated = 0;
        long expectedOffset = batch.baseOffset();
        long now = -1;
        try (var it = batch.streamingIterator(BUFFERS.get())) {
            while (it.hasNext()) {
                org.apache.kafka.common.record.Record r = it.next();
                if (r.offset() != expectedOffset++) {
                    throw new Refused(org.apache.kafka.common.protocol.Errors.CORRUPT_MESSAGE,
                            "record offsets in a producer's batch are not consecutive");
                }
                byte[] key = r.hasKey() ? bytes(r.key()) : null;
                byte[] value = r.hasValue() ? bytes(r.value()) : EMPTY;
                long size = (key == null ? 0 : key.length) + value.length;
                org.apache.kafka.common.header.Header[] kafkaHeaders = r.headers();
                List<RecordHeader> headers = kafkaHeaders.length == 0 ? List.of() : new ArrayList<>(kafkaHeaders.length);
                for (org.apache.kafka.common.header.Header h : kafkaHeaders) {
                    byte[] headerValue = h.value() == null ? EMPTY : h.value();
                    RecordHeader header = new RecordHeader(h.key(), headerValue);
                    size += h.key().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + headerValue.length;
                    headers.add(header);
                }
                if (size > limits.maxRecordBytes()) {
                    throw new Refused(org.apache.kafka.common.protocol.Errors.MESSAGE_TOO_LARGE, "a record of " + size
                            + " bytes is over the limit of " + limits.maxRecordBytes());
                }
                long timestamp = r.timestamp();
                if (timestamp < RecordBatch.NO_TIMESTAMP) {
                    throw new Refused(org.apache.kafka.common.protocol.Errors.INVALID_TIMESTAMP,
                            "record timestamp " + timestamp + " is negative");
                }
                if (timestamp == RecordBatch.NO_TIMESTAMP) {
                    now = now < 0 ? limits.clock().millis() : now;
                    timestamp = now;
                }
                inflated += out.append(new LogRecord(key, value, headers, timestamp));
                if (inflated > budget) {
                    throw new Refused(org.apache.kafka.common.protocol.Errors.MESSAGE_TOO_LARGE,
                            "the request's records inflate past " + budget + " bytes");
                }
            }
        } catch (CorruptRecordException | InvalidRecordException e) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.CORRUPT_MESSAGE, e.getMessage());
        }
        if (out.recordCount() != batch.countOrNull() && batch.countOrNull() != null) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.CORRUPT_MESSAGE,
                    "the batch holds " + out.recordCount() + " records, its header says " + batch.countOrNull());
        }
        if (out.isEmpty()) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.CORRUPT_MESSAGE, "an empty record batch");
        }
        ByteBuffer built = out.build(limits.compressionLevel());
        return new Converted(built, BatchCodec.headerInfo(built), batch.hasProducerId() ? batch.producerId() : -1,
                batch.hasProducerId() ? batch.baseSequence() : -1, inflated);
    }

    private static final byte[] EMPTY = new byte[0];

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
