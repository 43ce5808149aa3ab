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
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
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

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    /** Puts to the keys in {@code held} wait until released; to those in {@code failing}, fail. */
    private static class Controlled extends ForwardingObjectStore {
        final ConcurrentHashMap<String, CompletableFuture<Void>> held = new ConcurrentHashMap<>();
        final List<String> failing = new CopyOnWriteArrayList<>();
        final List<ObjectKey> deleted = new CopyOnWriteArrayList<>();
        /** Every PUT not held or failing answers no sooner than this (a store slower than the hedge's floor). */
        volatile long delayMs;
        /** PUTs and deletes started and not finished: a hedge's loser goes on after its upload is answered. */
        final AtomicInteger busy = new AtomicInteger();

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
            if (delayMs > 0) {
                busy.incrementAndGet();
                CompletableFuture<Void> put = CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(
                        delayMs, TimeUnit.MILLISECONDS)).thenCompose(v -> delegate.put(key, bytes));
                put.whenComplete((v, e) -> busy.decrementAndGet());
                return put;
            }
            return delegate.put(key, bytes);
        }

        @Override
        public CompletableFuture<java.util.Set<ObjectKey>> delete(java.util.Set<ObjectKey> keys) {
            busy.incrementAndGet();
            return delegate.delete(keys).whenComplete((v, e) -> busy.decrementAndGet()).thenApply(done -> {
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

        HedgedPut puts = new HedgedPut(objects, Duration.ofMillis(50), 0.6, timer);
        ObjectKey stored = puts.put(this::nextKey, block()).get(10, TimeUnit.SECONDS);

        assertThat(stored.value()).isEqualTo("wal/00/block-2");
        assertThat(puts.hedges()).isEqualTo(1);
        slow.complete(null); // the first PUT lands after all: nothing references it
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!objects.deleted.contains(ObjectKey.of("wal/00/block-1")) && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertThat(objects.deleted).containsExactly(ObjectKey.of("wal/00/block-1"));
        assertThat(objects.stored()).containsExactly(stored);
    }

    @Test
    void theBlocksBytesAreFreeOnlyOnceTheLosingPutIsAnsweredToo() throws Exception {
        Controlled objects = new Controlled(dir);
        CompletableFuture<Void> slow = new CompletableFuture<>();
        objects.held.put("wal/00/block-1", slow);
        HedgedPut puts = new HedgedPut(objects, Duration.ofMillis(50), 0.6, timer);
        CompletableFuture<Void> settled = new CompletableFuture<>();
        assertThat(puts.put(this::nextKey, block(), settled).get(10, TimeUnit.SECONDS).value())
                .isEqualTo("wal/00/block-2");
        Thread.sleep(100);
        assertThat(settled).as("the first PUT still reads the bytes").isNotDone();
        slow.complete(null);
        settled.get(10, TimeUnit.SECONDS);

        CompletableFuture<Void> alone = new CompletableFuture<>();
        puts.put(this::nextKey, block(), alone).get(10, TimeUnit.SECONDS);
        alone.get(10, TimeUnit.SECONDS); // answered before its hedge was due: settled with it
        CompletableFuture<Void> refused = new CompletableFuture<>();
        assertThatThrownBy(() -> puts.put(() -> {
            throw new IllegalStateException("no key");
        }, block(), refused)).isInstanceOf(IllegalStateException.class);
        assertThat(refused).as("no PUT started").isDone();
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
            new HedgedPut(new Controlled(dir), Duration.ofMillis(150), 0.6, recording)
                    .put(this::nextKey, ByteBuffer.allocate(8 << 20)).get(10, TimeUnit.SECONDS);
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
        HedgedPut puts = new HedgedPut(objects, Duration.ofSeconds(30), 0.6, timer);
        ObjectKey stored = puts.put(this::nextKey, block()).get(10, TimeUnit.SECONDS);
        assertThat(stored.value()).isEqualTo("wal/00/block-1");
        assertThat(puts.hedges()).isZero();
        assertThat(issued.get()).isEqualTo(1);
    }

    @Test
    void theUploadFailsOnlyWhenEveryPutStartedFailed() throws Exception {
        Controlled objects = new Controlled(dir);
        CompletableFuture<Void> slowThenFailing = new CompletableFuture<>();
        objects.held.put("wal/00/block-1", slowThenFailing);
        objects.failing.add("wal/00/block-2");

        HedgedPut puts = new HedgedPut(objects, Duration.ofMillis(50), 0.6, timer);
        CompletableFuture<ObjectKey> upload = puts.put(this::nextKey, block());
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (puts.hedges() == 0 && System.nanoTime() < until) {
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
        HedgedPut puts = new HedgedPut(objects, Duration.ZERO, 0.6, timer);
        assertThat(puts.put(this::nextKey, block()).get(10, TimeUnit.SECONDS).value()).isEqualTo("wal/00/block-1");
        assertThat(puts.hedges()).isZero();
        assertThat(puts.after()).isZero();
    }

    /** Starts {@code count} uploads at once and waits for them all, and for their losers' PUTs and deletes. */
    private static void upload(HedgedPut puts, Controlled objects, Supplier<ObjectKey> keys, int count) throws Exception {
        List<CompletableFuture<ObjectKey>> uploads = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            uploads.add(puts.put(keys, block()));
        }
        CompletableFuture.allOf(uploads.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (objects.busy.get() > 0 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
    }

    @Test
    void onAStoreSlowerThanTheFloorPutsAreHedgedOnlyPastTheRecentPutsQuantile() throws Exception {
        Controlled objects = new Controlled(dir);
        objects.delayMs = 450;
        HedgedPut puts = new HedgedPut(objects, Duration.ofMillis(100), 0.6, timer);
        upload(puts, objects, this::nextKey, HedgedPut.MIN_SAMPLES); // too few latencies known yet: hedged after the floor
        assertThat(puts.hedges()).isEqualTo(HedgedPut.MIN_SAMPLES);
        assertThat(puts.after()).isBetween(Duration.ofMillis(440), Duration.ofMillis(500));

        objects.delayMs = 250; // slower than the floor, faster than the store has been: not sent twice
        upload(puts, objects, this::nextKey, 10);
        assertThat(puts.hedges()).isEqualTo(HedgedPut.MIN_SAMPLES);
    }

    private final AtomicLong now = new AtomicLong();

    private HedgedPut onClock(Controlled objects, Duration after, double quantile) {
        return new HedgedPut(objects, after, quantile, timer, now::get);
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    @Test
    void theWaitIsTheRecentLatenciesQuantileWhenLongerThanTheFloor() {
        HedgedPut puts = onClock(new Controlled(dir), ms(20), 0.6); // may lengthen the wait to 100 ms
        for (int i = 100; i >= 1; i--) {
            puts.answered(ms(i).toNanos());
        }
        assertThat(puts.after()).isEqualTo(ms(60)); // the 60th of 100, nearest rank
    }

    @Test
    void fewerRecentLatenciesThanTheMinimumLeaveTheFloorInForce() {
        HedgedPut puts = onClock(new Controlled(dir), ms(10), 0.6);
        for (int i = 1; i < HedgedPut.MIN_SAMPLES; i++) {
            puts.answered(ms(50).toNanos());
        }
        assertThat(puts.after()).isEqualTo(ms(10));
        puts.answered(ms(50).toNanos());
        assertThat(puts.after()).isEqualTo(ms(50));
    }

    @Test
    void onlyTheLastSamplesAndTheLastMinuteCount() {
        HedgedPut puts = onClock(new Controlled(dir), ms(10), 0.6);
        for (int i = 0; i < 100; i++) {
            puts.answered(ms(45).toNanos());
        }
        for (int i = 0; i < HedgedPut.SAMPLES; i++) {
            puts.answered(ms(20).toNanos());
        }
        assertThat(puts.after()).as("the older 45 ms latencies left the ring").isEqualTo(ms(20));
        now.addAndGet(HedgedPut.MAX_AGE_NANOS + 1);
        assertThat(puts.after()).as("a minute later, nothing is recent").isEqualTo(ms(10));
        for (int i = 0; i < HedgedPut.MIN_SAMPLES; i++) {
            puts.answered(ms(30).toNanos());
        }
        assertThat(puts.after()).isEqualTo(ms(30));
    }

    @Test
    void theQuantileLengthensTheWaitToSomeTimesTheFloorAtMost() {
        HedgedPut puts = onClock(new Controlled(dir), ms(100), 0.6);
        for (int i = 0; i < 50; i++) {
            puts.answered(Duration.ofSeconds(10).toNanos()); // a cold start, an incident
        }
        assertThat(puts.after()).isEqualTo(ms(100L * HedgedPut.MAX_FACTOR));
    }

    @Test
    void withTheQuantileAtZeroTheFloorAloneDecides() {
        HedgedPut puts = onClock(new Controlled(dir), ms(20), 0);
        for (int i = 0; i < 50; i++) {
            puts.answered(ms(150).toNanos());
        }
        assertThat(puts.after()).isEqualTo(ms(20));
    }

    @Test
    void aPutIsTimedBeyondItsBytesAllowanceAndFailedPutsAreTimedToo() throws Exception {
        Controlled objects = new Controlled(dir) {
            @Override
            public CompletableFuture<Void> put(ObjectKey key, ByteBuffer bytes) {
                now.addAndGet(ms(300).toNanos()); // the store takes 300 ms on the node's clock, none on the timer's
                return failing.contains(key.value())
                        ? CompletableFuture.failedFuture(new ObjectStoreException("injected", true))
                        : CompletableFuture.completedFuture(null); // answered before any hedge could start
            }
        };
        HedgedPut puts = onClock(objects, ms(100), 0.6);
        for (int i = 0; i < HedgedPut.MIN_SAMPLES; i++) {
            puts.put(this::nextKey, ByteBuffer.allocate(1 << 20)).get(10, TimeUnit.SECONDS);
        }
        assertThat(puts.after()).isEqualTo(ms(300).minusNanos(15_625_000)); // a MiB at 64 MiB/s
        for (int i = 0; i < 2 * HedgedPut.SAMPLES; i++) {
            objects.failing.add("wal/00/block-" + (issued.get() + 1));
            assertThatThrownBy(() -> puts.put(this::nextKey, block()).get(10, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(ObjectStoreException.class);
        }
        assertThat(puts.after()).as("failed PUTs took 300 ms too").isBetween(ms(299), ms(300));
    }

    @Test
    void aQuantileOutsideZeroToOneIsRefused() {
        assertThatThrownBy(() -> new HedgedPut(new Controlled(dir), Duration.ofMillis(20), 1, timer))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("quantile");
        assertThatThrownBy(() -> new HedgedPut(new Controlled(dir), Duration.ofMillis(20), -0.1, timer))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("quantile");
        assertThatThrownBy(() -> new HedgedPut(new Controlled(dir), Duration.ofMillis(20), Double.NaN, timer))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("quantile");
    }
}
