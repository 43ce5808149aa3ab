package io.strata.kafka.produce;

import com.google.protobuf.ByteString;
import io.strata.api.v1.Header;
import io.strata.api.v1.Record;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;

/**
 * A Kafka record batch as Strata records. The batch is checked (CRC, magic, what Strata does not take yet)
 * before any of it is converted; records are inflated with Kafka's own codec (none, gzip, snappy, lz4, zstd)
 * and counted as they inflate, so a small batch that inflates past the limit is refused before it takes the
 * memory. Kafka's null value (a tombstone) becomes Strata's tombstone, an empty value; a header's null value an
 * empty one; a record without a timestamp takes the node's clock when appended, as in Strata.
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

        Refused(org.apache.kafka.common.protocol.Errors error, String message) {
            super(message, null, false, false);
            this.error = error;
        }

        public org.apache.kafka.common.protocol.Errors error() {
            return error;
        }
    }

    /** What one batch becomes: its records, and its producer's id and first sequence (-1 when not idempotent). */
    public record Converted(List<Record> records, long producerId, int baseSequence, long inflatedBytes) {
    }

    /** Checks and converts one batch; {@code budget} is how many inflated bytes it may take at most. */
    public static Converted convert(RecordBatch batch, long budget) {
        if (batch.magic() < RecordBatch.MAGIC_VALUE_V2) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.UNSUPPORTED_FOR_MESSAGE_FORMAT,
                    "record batches of magic " + batch.magic() + " are not taken: produce with a client of Kafka 0.11 or later");
        }
        try {
            batch.ensureValid();
        } catch (CorruptRecordException | InvalidRecordException e) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.CORRUPT_MESSAGE, e.getMessage());
        }
        if (batch.isTransactional() || batch.isControlBatch()) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.INVALID_RECORD,
                    "transactional batches are not taken yet: produce without transactional.id");
        }
        if (batch.timestampType() == TimestampType.LOG_APPEND_TIME) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.INVALID_TIMESTAMP,
                    "a producer's batch cannot carry LogAppendTime");
        }
        List<Record> records = new ArrayList<>();
        long inflated = 0;
        long expectedOffset = batch.baseOffset();
        try (var it = batch.streamingIterator(BUFFERS.get())) {
            while (it.hasNext()) {
                org.apache.kafka.common.record.Record r = it.next();
                if (r.offset() != expectedOffset++) {
                    throw new Refused(org.apache.kafka.common.protocol.Errors.CORRUPT_MESSAGE,
                            "record offsets in a producer's batch are not consecutive");
                }
                Record.Builder out = Record.newBuilder();
                long size = 0;
                if (r.hasKey()) {
                    ByteBuffer key = r.key();
                    size += key.remaining();
                    out.setKey(ByteString.copyFrom(key));
                }
                if (r.hasValue()) {
                    ByteBuffer value = r.value();
                    size += value.remaining();
                    out.setValue(ByteString.copyFrom(value));
                }
                for (org.apache.kafka.common.header.Header h : r.headers()) {
                    byte[] value = h.value() == null ? new byte[0] : h.value();
                    size += h.key().length() + value.length;
                    out.addHeaders(Header.newBuilder().setKey(h.key()).setValue(ByteString.copyFrom(value)));
                }
                out.setTimestampMs(Math.max(0, r.timestamp()));
                inflated += size + 24;
                if (inflated > budget) {
                    throw new Refused(org.apache.kafka.common.protocol.Errors.MESSAGE_TOO_LARGE,
                            "the request's records inflate past " + budget + " bytes");
                }
                records.add(out.build());
            }
        } catch (CorruptRecordException | InvalidRecordException e) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.CORRUPT_MESSAGE, e.getMessage());
        }
        if (records.size() != batch.countOrNull() && batch.countOrNull() != null) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.CORRUPT_MESSAGE,
                    "the batch holds " + records.size() + " records, its header says " + batch.countOrNull());
        }
        if (records.isEmpty()) {
            throw new Refused(org.apache.kafka.common.protocol.Errors.CORRUPT_MESSAGE, "an empty record batch");
        }
        return new Converted(records, batch.hasProducerId() ? batch.producerId() : -1,
                batch.hasProducerId() ? batch.baseSequence() : -1, inflated);
    }
}
