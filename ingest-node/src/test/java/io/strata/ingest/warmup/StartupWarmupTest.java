package io.strata.ingest.warmup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ForwardingObjectStore;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import io.strata.storage.object.local.LocalObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartupWarmupTest {
    @TempDir
    Path dir;

    /** Counts what goes through to the store, and damages the bytes read back when told to. */
    private static class Watching extends ForwardingObjectStore {
        final List<String> puts = new CopyOnWriteArrayList<>();
        volatile boolean damageReads;

        Watching(ObjectStore delegate) {
            super(delegate);
        }

        @Override
        public CompletableFuture<Void> put(ObjectKey key, ByteBuffer bytes) {
            puts.add(key.value());
            return super.put(key, bytes);
        }

        @Override
        public CompletableFuture<ByteBuffer> get(ObjectKey key, ByteRange range) {
            return super.get(key, range).thenApply(b -> {
                if (damageReads) {
                    b.put(b.position(), (byte) (b.get(b.position()) ^ 1));
                }
                return b;
            });
        }
    }

    @Test
    void eachRoundUploadsAndReadsBackABlockThatIsDeletedAfterwardsAndNothingRemains() throws Exception {
        try (LocalObjectStore local = new LocalObjectStore(dir)) {
            Watching store = new Watching(local);

            StartupWarmup.Result result = StartupWarmup.run(store, "ingest-1", 3, 5, Duration.ofMinutes(1),
                    Duration.ofSeconds(10), System::nanoTime);

            assertThat(result.rounds()).isEqualTo(5);
            assertThat(store.puts).hasSize(5).allMatch(k -> k.startsWith(StartupWarmup.PREFIX + "ingest-1/"));
            assertThat(local.list("").join()).as("every warm-up object deleted").isEmpty();
        }
    }

    @Test
    void itStopsOnceItsTimeIsUp() throws Exception {
        AtomicLong now = new AtomicLong();
        try (LocalObjectStore local = new LocalObjectStore(dir)) {
            Watching store = new Watching(local) {
                @Override
                public CompletableFuture<Void> put(ObjectKey key, ByteBuffer bytes) {
                    now.addAndGet(Duration.ofMillis(400).toNanos()); // each upload takes 400 ms of the clock
                    return super.put(key, bytes);
                }
            };

            StartupWarmup.Result result = StartupWarmup.run(store, "n", 1, 100, Duration.ofSeconds(1),
                    Duration.ofSeconds(10), now::get);

            assertThat(result.rounds()).isEqualTo(3);
            assertThat(result.took()).isEqualTo(Duration.ofMillis(1200));
        }
    }

    @Test
    void aChunkReadBackDamagedFailsTheWarmUpAndItsObjectIsStillDeleted() throws Exception {
        try (LocalObjectStore local = new LocalObjectStore(dir)) {
            Watching store = new Watching(local);
            store.damageReads = true;

            assertThatThrownBy(() -> StartupWarmup.run(store, "n", 1, 5, Duration.ofMinutes(1), Duration.ofSeconds(10),
                    System::nanoTime)).isInstanceOf(io.strata.format.BlockFormatException.class);
            assertThat(local.list("").join()).isEmpty();
        }
    }
}
