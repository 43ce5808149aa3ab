package io.strata.kafka.produce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.format.BatchCodec;
import io.strata.format.LogRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** Kafka record batches as Strata batches: every codec, what is kept, and what is refused before anything is stored. */
class KafkaBatchesTest {
    private static final KafkaBatches.Limits LIMITS = new KafkaBatches.Limits(1 << 20, 8 << 20, 3,
            Clock.fixed(Instant.ofEpochMilli(1_800_000_000_000L), ZoneOffset.UTC));

    private static MemoryRecords batch(Compression compression, long producerId, int baseSequence, int count) {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(64 * 1024), RecordBatch.MAGIC_VALUE_V2,
                compression, TimestampType.CREATE_TIME, 0, 1_000L, producerId, (short) 0, baseSequence, false,
                RecordBatch.NO_PARTITION_LEADER_EPOCH);
        for (int i = 0; i < count; i++) {
            b.append(1_700_000_000_000L + i, ("k" + i).getBytes(StandardCharsets.UTF_8),
                    i == 0 ? null : ("v" + i).getBytes(StandardCharsets.UTF_8),
                    new org.apache.kafka.common.header.Header[] {new RecordHeader("h", i % 2 == 0 ? null : new byte[] {1})});
        }
        return b.build();
    }

    @Test
    void everyCodecConvertsToTheSameRecords() {
        for (Compression c : new Compression[] {Compression.NONE, Compression.gzip().build(), Compression.snappy().build(),
                Compression.lz4().build(), Compression.zstd().build()}) {
            RecordBatch batch = batch(c, 42, 7, 3).batches().iterator().next();
            KafkaBatches.Converted out = KafkaBatches.convert(batch, 1 << 20, LIMITS);
            assertThat(out.producerId()).isEqualTo(42);
            assertThat(out.baseSequence()).isEqualTo(7);
            assertThat(BatchCodec.validate(out.batch(), 1 << 20)).as("a batch the node takes as it is")
                    .isEqualTo(out.info());
            List<LogRecord> records = BatchCodec.decode(out.batch());
            assertThat(records).hasSize(3);
            LogRecord first = records.get(0);
            assertThat(new String(first.key(), StandardCharsets.UTF_8)).isEqualTo("k0");
            assertThat(first.value()).as("a null value is Strata's tombstone, an empty value").isEmpty();
            assertThat(first.headers().get(0).key()).isEqualTo("h");
            assertThat(first.headers().get(0).value()).isEmpty();
            assertThat(new String(records.get(2).value(), StandardCharsets.UTF_8)).isEqualTo("v2");
            assertThat(records.get(2).timestampMs()).isEqualTo(1_700_000_000_002L);
            assertThat(out.info().minTimestampMs()).isEqualTo(1_700_000_000_000L);
        }
    }

    @Test
    void aBatchWhoseBytesChangedIsRefusedAsCorrupt() {
        MemoryRecords records = batch(Compression.zstd().build(), -1, -1, 5);
        ByteBuffer bytes = records.buffer();
        bytes.put(bytes.limit() - 3, (byte) (bytes.get(bytes.limit() - 3) ^ 0x5a));
        RecordBatch damaged = MemoryRecords.readableRecords(bytes).batches().iterator().next();
        assertThatThrownBy(() -> KafkaBatches.convert(damaged, 1 << 20, LIMITS)).isInstanceOfSatisfying(
                KafkaBatches.Refused.class, e -> assertThat(e.error()).isEqualTo(Errors.CORRUPT_MESSAGE));
    }

    @Test
    void aSmallBatchThatInflatesPastTheLimitIsRefusedBeforeItTakesTheMemory() {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1 << 20), Compression.zstd().build(),
                TimestampType.CREATE_TIME, 0);
        for (int i = 0; i < 100; i++) {
            b.append(1L, null, new byte[10_000]);
        }
        RecordBatch compressed = b.build().batches().iterator().next();
        assertThat(compressed.sizeInBytes()).isLessThan(10_000);
        assertThatThrownBy(() -> KafkaBatches.convert(compressed, 100_000, LIMITS)).isInstanceOfSatisfying(
                KafkaBatches.Refused.class, e -> assertThat(e.error()).isEqualTo(Errors.MESSAGE_TOO_LARGE));
    }

    @Test
    void aTransactionalBatchIsTakenWithItsProducerAndSequenceAndAControlBatchIsRefused() {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(4096), RecordBatch.MAGIC_VALUE_V2,
                Compression.NONE, TimestampType.CREATE_TIME, 0, 1L, 9, (short) 0, 4, true,
                RecordBatch.NO_PARTITION_LEADER_EPOCH);
        b.append(1L, null, new byte[] {1});
        RecordBatch txn = b.build().batches().iterator().next();
        KafkaBatches.Converted converted = KafkaBatches.convert(txn, 1 << 20, LIMITS);
        assertThat(converted.producerId()).isEqualTo(9);
        assertThat(converted.baseSequence()).isEqualTo(4);
        RecordBatch marker = MemoryRecords.withEndTransactionMarker(0, 1L, RecordBatch.NO_PARTITION_LEADER_EPOCH, 9,
                (short) 0, new org.apache.kafka.common.record.EndTransactionMarker(
                        org.apache.kafka.common.record.ControlRecordType.COMMIT, 0)).batches().iterator().next();
        assertThatThrownBy(() -> KafkaBatches.convert(marker, 1 << 20, LIMITS)).as("markers are not a producer's")
                .isInstanceOfSatisfying(KafkaBatches.Refused.class,
                        e -> assertThat(e.error()).isEqualTo(Errors.INVALID_RECORD));
    }

    @Test
    void aRecordOverTheNodesLimitIsRefusedAndOneWithoutATimestampTakesTheNodesClock() {
        // (the door is handed the node's clock and limits: Limits)
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(8192), Compression.lz4().build(),
                TimestampType.CREATE_TIME, 0);
        b.append(RecordBatch.NO_TIMESTAMP, null, new byte[100]);
        RecordBatch batch = b.build().batches().iterator().next();
        KafkaBatches.Converted out = KafkaBatches.convert(batch, 1 << 20, LIMITS);
        LogRecord only = BatchCodec.decode(out.batch()).get(0);
        assertThat(only.key()).isNull();
        assertThat(only.timestampMs()).isEqualTo(1_800_000_000_000L);
        assertThatThrownBy(() -> KafkaBatches.convert(batch, 1 << 20, new KafkaBatches.Limits(99, 8 << 20, 3,
                Clock.systemUTC()))).isInstanceOfSatisfying(KafkaBatches.Refused.class,
                e -> assertThat(e.error()).isEqualTo(Errors.MESSAGE_TOO_LARGE));
    }

    @Test
    void aNegativeTimestampOtherThanNoneIsRefused() {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(4096), Compression.NONE,
                TimestampType.CREATE_TIME, 0);
        b.append(10L, null, new byte[] {1});
        ByteBuffer bytes = b.build().buffer();
        // Kafka's builder writes no such timestamp: set the batch's base timestamp to -5, and its CRC again.
        bytes.putLong(27, -5L);
        bytes.putInt(17, (int) org.apache.kafka.common.utils.Crc32C.compute(bytes, 21, bytes.limit() - 21));
        RecordBatch batch = MemoryRecords.readableRecords(bytes).batches().iterator().next();
        assertThatThrownBy(() -> KafkaBatches.convert(batch, 1 << 20, LIMITS)).isInstanceOfSatisfying(
                KafkaBatches.Refused.class, e -> assertThat(e.error()).isEqualTo(Errors.INVALID_TIMESTAMP));
    }
}
