package io.strata.storage.object;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.storage.object.local.LocalObjectStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The latency model's draws have the median and 99th percentile it was given, and calls still reach the store. */
class SimulatedLatencyObjectStoreTest {
    @TempDir
    Path dir;

    private static long[] draws(SimulatedLatencyObjectStore store, boolean put, int n) {
        long[] d = new long[n];
        for (int i = 0; i < n; i++) {
            d[i] = store.drawMillis(put);
        }
        Arrays.sort(d);
        return d;
    }

    @Test
    void drawsFollowTheModelsMedianAndNinetyNinthPercentile() {
        try (SimulatedLatencyObjectStore store = new SimulatedLatencyObjectStore(new LocalObjectStore(dir),
                SimulatedLatencyObjectStore.Model.S3_STANDARD, 7)) {
            long[] puts = draws(store, true, 40_000);
            long[] gets = draws(store, false, 40_000);
            assertThat(puts[20_000]).isBetween(95L, 105L);
            assertThat(puts[39_600]).isBetween(330L, 370L);
            assertThat(gets[20_000]).isBetween(28L, 32L);
            assertThat(gets[39_600]).isBetween(75L, 85L);
        }
    }

    @Test
    void modelsParseFromTheirNameOrTheirPercentiles() {
        assertThat(SimulatedLatencyObjectStore.Model.parse("s3-standard"))
                .isEqualTo(SimulatedLatencyObjectStore.Model.S3_STANDARD);
        assertThat(SimulatedLatencyObjectStore.Model.parse("put=50/200, get=10/40"))
                .isEqualTo(new SimulatedLatencyObjectStore.Model(50, 200, 10, 40));
        assertThatThrownBy(() -> SimulatedLatencyObjectStore.Model.parse("put=50"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SimulatedLatencyObjectStore.Model.parse("put=50/200"))
                .hasMessageContaining("needs both");
    }

    @Test
    void callsReachTheStoreAndAnswerAsItDoes() {
        try (SimulatedLatencyObjectStore store = new SimulatedLatencyObjectStore(new LocalObjectStore(dir),
                new SimulatedLatencyObjectStore.Model(5, 10, 1, 2), 3)) {
            ObjectKey key = ObjectKey.of("wal/00/a");
            store.put(key, ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8))).join();
            assertThat(StandardCharsets.UTF_8.decode(store.get(key).join()).toString()).isEqualTo("abc");
            assertThatThrownBy(() -> store.put(key, ByteBuffer.wrap(new byte[1])).join())
                    .hasCauseInstanceOf(ObjectExistsException.class);
        }
    }
}
