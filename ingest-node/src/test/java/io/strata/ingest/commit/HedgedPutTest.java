package io.strata.ingest.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.storage.object.ForwardingObjectStore;
import io.strata.storage.object.ObjectInfo;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStoreException;
import io.strata.storage.object.local.LocalObjectStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A block's PUT that does not answer in time is sent again under a second key; the first stored wins, the
 * loser is deleted, and the upload fails only when every PUT failed. On a real local object store, with the
 * PUTs to chosen keys held back or failed.
 */
class HedgedPutTest {
    @TempDir
    Path dir;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final AtomicInteger issued = new AtomicInteger();
    private final LongAdder hedges = new LongAdder();

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    /** Puts to the keys in {@code held} wait until released; to those in {@code failing}, fail. */
    private static final class Controlled extends ForwardingObjectStore {
        final ConcurrentHashMap<String, CompletableFuture<Void>> held = new ConcurrentHashMap<>();
        final List<String> failing = new CopyOnWriteArrayList<>();
        final List<ObjectKey> deleted = new CopyOnWriteArrayList<>();

        Controlled(Path dir) {
            super(new LocalObjectStore(dir));
        }

        @Override
        public CompletableFuture<Void> put(ObjectKey key, ByteBuffer bytes) {
            if (failing.contains(key.value())) {
                return CompletableFuture.failedFuture(new ObjectStoreException("injected", true));
            }
            CompletableFuture<Void> gate = held.get(key.value());
            if (gate != null) {
                return gate.thenCompose(v -> delegate.put(key, bytes));
            }
            return delegate.put(key, bytes);
        }

        @Override
        public CompletableFuture<java.util.Set<ObjectKey>> delete(java.util.Set<ObjectKey> keys) {
            return delegate.delete(keys).thenApply(done -> {
                deleted.addAll(keys);
                return done;
            });
        }

        List<ObjectKey> stored() {
            return list("wal/").join().stream().map(ObjectInfo::key).toList();
        }
    }

    private ObjectKey nextKey() {
        return ObjectKey.of("wal/00/block-" + issued.incrementAndGet());
    }

    private static ByteBuffer block() {
        return ByteBuffer.wrap("a block".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aSlowPutIsOvertakenByItsHedgeAndTheLoserIsDeletedOnceStored() throws Exception {
        Controlled objects = new Controlled(dir);
        CompletableFuture<Void> slow = new CompletableFuture<>();
        objects.held.put("wal/00/block-1", slow);

        ObjectKey stored = HedgedPut.put(objects, this::nextKey, block(), Duration.ofMillis(50), timer, hedges)
                .get(10, TimeUnit.SECONDS);

        assertThat(stored.value()).isEqualTo("wal/00/block-2");
        assertThat(hedges.sum()).isEqualTo(1);
        slow.complete(null); // the first PUT lands after all: nothing references it
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!objects.deleted.contains(ObjectKey.of("wal/00/block-1")) && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertThat(objects.deleted).containsExactly(ObjectKey.of("wal/00/block-1"));
        assertThat(objects.stored()).containsExactly(stored);
    }

    @Test
    void theHedgeOfAnEightMebibyteBlockIsScheduledWithTimeForItsBytes() throws Exception {
        List<Long> delaysMs = new CopyOnWriteArrayList<>();
        ScheduledExecutorService recording = new java.util.concurrent.ScheduledThreadPoolExecutor(1) {
            @Override
            public java.util.concurrent.ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
                delaysMs.add(unit.toMillis(delay));
                return super.schedule(task, delay, unit);
            }
        };
        try {
            HedgedPut.put(new Controlled(dir), this::nextKey, ByteBuffer.allocate(8 << 20), Duration.ofMillis(150),
                    recording, hedges).get(10, TimeUnit.SECONDS);
            assertThat(delaysMs).containsExactly(275L);
        } finally {
            recording.shutdownNow();
        }
    }

    @Test
    void aBiggerBlockIsGivenTimeForItsBytesBeforeItIsHedged() {
        assertThat(HedgedPut.threshold(Duration.ofMillis(150), 0)).isEqualTo(Duration.ofMillis(150));
        assertThat(HedgedPut.threshold(Duration.ofMillis(150), 1 << 20)).isEqualTo(Duration.ofMillis(150).plusNanos(15_625_000));
        assertThat(HedgedPut.threshold(Duration.ofMillis(150), 8 << 20)).isEqualTo(Duration.ofMillis(150 + 125));
    }

    @Test
    void aPutAnsweringInTimeIsNeverHedged() throws Exception {
        Controlled objects = new Controlled(dir);
        ObjectKey stored = HedgedPut.put(objects, this::nextKey, block(), Duration.ofSeconds(30), timer, hedges)
                .get(10, TimeUnit.SECONDS);
        assertThat(stored.value()).isEqualTo("wal/00/block-1");
        assertThat(hedges.sum()).isZero();
        assertThat(issued.get()).isEqualTo(1);
    }

    @Test
    void theUploadFailsOnlyWhenEveryPutStartedFailed() throws Exception {
        Controlled objects = new Controlled(dir);
        CompletableFuture<Void> slowThenFailing = new CompletableFuture<>();
        objects.held.put("wal/00/block-1", slowThenFailing);
        objects.failing.add("wal/00/block-2");

        CompletableFuture<ObjectKey> upload = HedgedPut.put(objects, this::nextKey, block(), Duration.ofMillis(50),
                timer, hedges);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (hedges.sum() == 0 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        Thread.sleep(50); // the hedge's failure is in
        assertThat(upload).as("the hedge failed, the first PUT may still succeed").isNotDone();
        slowThenFailing.completeExceptionally(new ObjectStoreException("injected too", true));
        assertThatThrownBy(() -> upload.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(ObjectStoreException.class);
        assertThat(objects.stored()).isEmpty();
    }

    @Test
    void zeroMeansOnePutAndNoTimer() throws Exception {
        Controlled objects = new Controlled(dir);
        assertThat(HedgedPut.put(objects, this::nextKey, block(), Duration.ZERO, timer, hedges)
                .get(10, TimeUnit.SECONDS).value()).isEqualTo("wal/00/block-1");
        assertThat(hedges.sum()).isZero();
    }
}
