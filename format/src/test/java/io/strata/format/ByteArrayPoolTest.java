package io.strata.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pooled batch buffers: reused, bounded, and never leaking one batch's bytes into another. */
class ByteArrayPoolTest {
    @Test
    void onlyRequestsAboveHalfTheSizeGetPooledArrays() {
        ByteArrayPool pool = new ByteArrayPool(1000, 4);
        assertThat(pool.take(400)).hasSize(400);
        assertThat(pool.take(501)).hasSize(1000);
        assertThat(pool.take(1000)).hasSize(1000);
        assertThat(pool.take(1001)).hasSize(1001);
    }

    @Test
    void givenArraysAreReusedAndAtMostMaxKeptAreKept() {
        ByteArrayPool pool = new ByteArrayPool(1000, 2);
        byte[] a = pool.take(900);
        byte[] b = pool.take(900);
        byte[] c = pool.take(900);
        pool.give(a);
        pool.give(b);
        pool.give(c);
        pool.give(new byte[999]); // not of the pool's size: dropped
        assertThat(pool.kept()).isEqualTo(2);
        assertThat(List.of(pool.take(900), pool.take(900))).containsExactlyInAnyOrder(a, b);
        assertThat(pool.kept()).isZero();
    }

    @Test
    void batchesBuiltFromReusedArraysDecodeToTheirOwnRecords() {
        ByteArrayPool pool = new ByteArrayPool(BatchCodec.maxBuiltSize(64 << 10), 4);
        for (int round = 0; round < 5; round++) {
            BatchBuilder builder = new BatchBuilder(60 << 10, pool);
            List<LogRecord> sent = new ArrayList<>();
            for (int i = 0; i < 50 + round * 7; i++) {
                byte[] value = new byte[1000];
                java.util.Arrays.fill(value, (byte) ('a' + round));
                LogRecord record = new LogRecord(null, value, List.of(), 1_700_000_000_000L + i);
                sent.add(record);
                builder.append(record);
            }
            ByteBuffer built = builder.build(1);
            List<LogRecord> decoded = BatchCodec.decode(built.duplicate());
            assertThat(decoded).hasSameSizeAs(sent);
            for (int i = 0; i < sent.size(); i++) {
                assertThat(decoded.get(i).value()).isEqualTo(sent.get(i).value());
            }
            builder.release();
            // The record buffer went back when the batch was built, the batch's own array on release.
            assertThat(pool.kept()).isEqualTo(2);
        }
    }

    @Test
    void aBuiltBatchShowsItsArraySoProtobufWrapsItWithoutACopy() {
        ByteArrayPool pool = new ByteArrayPool(BatchCodec.maxBuiltSize(64 << 10), 4);
        BatchBuilder builder = new BatchBuilder(60 << 10, pool);
        for (int i = 0; i < 50; i++) {
            builder.append(new LogRecord(null, new byte[1000], List.of(), 1L));
        }
        ByteBuffer built = builder.build(1);
        assertThat(built.hasArray()).as("not a read-only view: unsafeWrap would copy it").isTrue();
        assertThat(BatchCodec.decode(built.duplicate())).hasSize(50);
    }

    @Test
    void aBuilderIsSpentOnceBuiltOrReleased() {
        ByteArrayPool pool = new ByteArrayPool(BatchCodec.maxBuiltSize(4096), 4);
        BatchBuilder builder = new BatchBuilder(4000, pool);
        builder.append(new LogRecord(null, new byte[10], List.of(), 1L));
        builder.build(1);
        assertThatThrownBy(() -> builder.build(1)).isInstanceOf(IllegalStateException.class);
        builder.release();
        builder.release(); // twice is harmless: an array goes back once
        // The 4,000-byte record buffer was pooled; the tiny built batch was not (under half the pool's size).
        assertThat(pool.kept()).isEqualTo(1);
        assertThatThrownBy(() -> builder.append(new LogRecord(null, new byte[1], List.of(), 1L)))
                .isInstanceOf(IllegalStateException.class);
    }
}
