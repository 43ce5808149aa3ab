package io.strata.kafka.produce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.api.v1.Record;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** Kafka record batches as Strata records: every codec, what is kept, and what is refused before anything is stored. */
class KafkaBatchesTest {

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
            KafkaBatches.Converted out = KafkaBatches.convert(batch, 1 << 20);
            assertThat(out.producerId()).isEqualTo(42);
            assertThat(out.baseSequence()).isEqualTo(7);
            assertThat(out.records()).hasSize(3);
            Record first = out.records().get(0);
            assertThat(first.getKey().toStringUtf8()).isEqualTo("k0");
            assertThat(first.getValue().isEmpty()).as("a null value is Strata's tombstone, an empty value").isTrue();
            assertThat(first.getHeaders(0).getValue().isEmpty()).isTrue();
            assertThat(out.records().get(2).getValue().toStringUtf8()).isEqualTo("v2");
            assertThat(out.records().get(2).getTimestampMs()).isEqualTo(1_700_000_000_002L);
        }
    }

    @Test
    void aBatchWhoseBytesChangedIsRefusedAsCorrupt() {
        MemoryRecords records = batch(Compression.zstd().build(), -1, -1, 5);
        ByteBuffer bytes = records.buffer();
        bytes.put(bytes.limit() - 3, (byte) (bytes.get(bytes.limit() - 3) ^ 0x5a));
        RecordBatch damaged = MemoryRecords.readableRecords(bytes).batches().iterator().next();
        assertThatThrownBy(() -> KafkaBatches.convert(damaged, 1 << 20)).isInstanceOfSatisfying(
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
        assertThatThrownBy(() -> KafkaBatches.convert(compressed, 100_000)).isInstanceOfSatisfying(
                KafkaBatches.Refused.class, e -> assertThat(e.error()).isEqualTo(Errors.MESSAGE_TOO_LARGE));
    }

    @Test
    void transactionalBatchesAreRefusedUntilStrataHasTransactions() {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(4096), RecordBatch.MAGIC_VALUE_V2,
                Compression.NONE, TimestampType.CREATE_TIME, 0, 1L, 9, (short) 0, 0, true,
                RecordBatch.NO_PARTITION_LEADER_EPOCH);
        b.append(1L, null, new byte[] {1});
        RecordBatch txn = b.build().batches().iterator().next();
        assertThatThrownBy(() -> KafkaBatches.convert(txn, 1 << 20)).isInstanceOfSatisfying(
                KafkaBatches.Refused.class, e -> assertThat(e.error()).isEqualTo(Errors.INVALID_RECORD));
    }
}
