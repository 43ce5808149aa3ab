package io.strata.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.RawChunk;
import io.strata.api.v1.SkippedRecords;
import io.strata.format.BatchBuilder;
import io.strata.format.BlockFormat;
import io.strata.format.LogRecord;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class RawChunksTest {
    /** A chunk of one batch holding values v0..v(n-1), the third with a header and every other with a key. */
    private static RawChunk.Builder chunk(long baseOffset, int n) {
        BatchBuilder batch = new BatchBuilder();
        for (int i = 0; i < n; i++) {
            batch.append(new LogRecord(i % 2 == 0 ? ("k" + i).getBytes(UTF_8) : null, ("v" + i).getBytes(UTF_8),
                    i == 2 ? List.of(new io.strata.format.RecordHeader("h", "x".getBytes(UTF_8))) : List.of(), 1000 + i));
        }
        ByteBuffer data = batch.build(1);
        return RawChunk.newBuilder().setBaseOffset(baseOffset).setRecordCount(n).setStoredRecordCount(n)
                .setUncompressedLength(batch.uncompressedBytes()).setCrc32C(BlockFormat.crc32c(data))
                .setData(ByteString.copyFrom(data.duplicate()));
    }

    private static List<ConsumerRecord> decode(RawChunk.Builder chunk, long fromOffset) {
        return RawChunks.decode("t", 3, FetchChunksResponse.newBuilder().addChunks(chunk).build(), fromOffset,
                Long.MAX_VALUE);
    }

    private static String value(ConsumerRecord r) {
        return new String(r.value(), UTF_8);
    }

    @Test
    void recordsFromTheAskedOffsetOnComeWithTheirOffsetsKeysHeadersAndTimestamps() {
        List<ConsumerRecord> records = decode(chunk(100, 5), 102);

        assertThat(records).extracting(ConsumerRecord::offset).containsExactly(102L, 103L, 104L);
        assertThat(records).extracting(RawChunksTest::value).containsExactly("v2", "v3", "v4");
        assertThat(records).extracting(ConsumerRecord::timestampMs).containsExactly(1002L, 1003L, 1004L);
        assertThat(records.get(0).key()).isEqualTo("k2".getBytes(UTF_8));
        assertThat(records.get(1).key()).isNull();
        assertThat(records.get(0).headers()).singleElement().satisfies(h -> {
            assertThat(h.key()).isEqualTo("h");
            assertThat(h.value()).isEqualTo("x".getBytes(UTF_8));
        });
        assertThat(records.get(1).headers()).isEmpty();
        assertThat(records).allSatisfy(r -> {
            assertThat(r.topic()).isEqualTo("t");
            assertThat(r.partition()).isEqualTo(3);
        });
    }

    @Test
    void storedRecordsWithoutOffsetsAreDroppedAndTheRestNumberedOn() {
        // Positions 1 and 2 are a retried batch's second copy: they have no offsets of their own.
        RawChunk.Builder chunk = chunk(100, 5).setRecordCount(3)
                .addSkipped(SkippedRecords.newBuilder().setFirstPosition(1).setCount(2));

        List<ConsumerRecord> records = decode(chunk, 0);

        assertThat(records).extracting(ConsumerRecord::offset).containsExactly(100L, 101L, 102L);
        assertThat(records).extracting(RawChunksTest::value).containsExactly("v0", "v3", "v4");
    }

    @Test
    void aChunkWhoseBytesDoNotMatchItsCrcIsDataLossNeverRecords() {
        RawChunk.Builder chunk = chunk(0, 4);
        byte[] bytes = chunk.getData().toByteArray();
        bytes[bytes.length / 2] ^= 1;
        chunk.setData(ByteString.copyFrom(bytes));

        assertThatThrownBy(() -> decode(chunk, 0)).isInstanceOfSatisfying(StrataException.class,
                e -> assertThat(e.code()).isEqualTo(Status.Code.DATA_LOSS));
    }

    @Test
    void aChunkCountingOtherRecordsThanItHoldsIsDataLoss() {
        assertThatThrownBy(() -> decode(chunk(0, 4).setStoredRecordCount(5).setRecordCount(5), 0))
                .isInstanceOfSatisfying(StrataException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.DATA_LOSS));
        assertThatThrownBy(() -> decode(chunk(0, 4).setRecordCount(3), 0))
                .isInstanceOfSatisfying(StrataException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.DATA_LOSS));
    }
}
