package io.strata.ingest.commit;

import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Uploads blocks and, when a PUT has not answered in time, uploads the block again under a second key: the
 * first to be stored is the block's object. Object stores have long tails (S3: PUT p50 about 100 ms, p99
 * several times that) and commits go in seal order, so one slow PUT holds every block behind it; a second PUT
 * rarely is slow too. Safe because every key is new and written with {@code If-None-Match}: the two never
 * overwrite anything, and only the winner's key is committed. The loser, if it is stored too, is deleted (and
 * would otherwise be collected as an orphan). An upload fails only when every PUT started for it failed.
 *
 * <p>In time means: within the longer of {@code after} and the {@code quantile} of the latencies of the last
 * {@link #SAMPLES} PUTs answered in the last minute (at most {@link #MAX_FACTOR} times {@code after}), plus the
 * time the block's bytes take at {@link #ALLOWED_BYTES_PER_SECOND} ({@link #threshold}). The quantile keeps the
 * share of PUTs sent twice below about {@code 1 - quantile} on a store whose latencies hold still, however slow:
 * a fixed threshold that suits S3 Standard would send more than half of all PUTs twice to a store whose median is
 * above it, and while the node's own load slows its PUTs it adds fewer. {@code after} keeps PUTs to a fast store
 * (local disk, S3 Express) from being hedged at all; the cap keeps a burst of slow PUTs (a cold start, an
 * incident) from turning hedging off when it helps most, and the minute lets such a burst be forgotten on a
 * node that uploads little. Thread-safe.
 */
final class HedgedPut {
    /**
     * What one PUT stream is allowed to take for its bytes before its latency counts as slow: 64 MiB/s (~16 ms
     * a MiB), below what one S3 PUT stream moves within a region. Small blocks (the latency-bound case) are
     * hedged after about {@link #after()}; 8 MiB blocks (the throughput-bound case, where a second upload costs
     * bandwidth that is scarce) 125 ms later.
     */
    static final long ALLOWED_BYTES_PER_SECOND = 64L << 20;
    /** Answered PUTs whose latencies the quantile is taken over: about 20 s of one node at 10 blocks a second. */
    static final int SAMPLES = 256;
    /** Below this many recent latencies known, the quantile is not trusted and {@code after} alone applies. */
    static final int MIN_SAMPLES = 20;
    /** Latencies older than this are forgotten. */
    static final long MAX_AGE_NANOS = 60_000_000_000L;
    /** The quantile may lengthen the wait to this many times {@code after}, no more (500 ms by default: S3's p99 is 350). */
    static final int MAX_FACTOR = 5;

    private final ObjectStore objects;
    private final Duration after;
    private final double quantile;
    private final ScheduledExecutorService timer;
    private final LongSupplier nanoTime;
    private final LongAdder hedges = new LongAdder();
    /** Latencies of answered PUTs beyond their bytes' allowance, in nanoseconds: a ring of the last SAMPLES. */
    private final long[] latencies = new long[SAMPLES];
    /** When each of {@link #latencies} was answered ({@link #nanoTime}). */
    private final long[] answeredAt = new long[SAMPLES];
    private long answered;

    /**
     * {@code after} zero: one PUT per block, never a second. {@code quantile} zero: hedged after {@code after}
     * whatever the store's latencies.
     */
    HedgedPut(ObjectStore objects, Duration after, double quantile, ScheduledExecutorService timer) {
        this(objects, after, quantile, timer, System::nanoTime);
    }

    /** {@code nanoTime}: the clock latencies are measured and aged with. */
    HedgedPut(ObjectStore objects, Duration after, double quantile, ScheduledExecutorService timer,
              LongSupplier nanoTime) {
        if (!(quantile >= 0 && quantile < 1)) { // NaN too
            throw new IllegalArgumentException("the hedge's quantile must be at least 0 and below 1, not " + quantile);
        }
        if (after.isNegative()) {
            throw new IllegalArgumentException("the hedge's wait must not be negative, not " + after);
        }
        this.objects = objects;
        this.after = after;
        this.quantile = quantile;
        this.timer = timer;
        this.nanoTime = nanoTime;
    }

    /** How long a PUT of {@code bytes} may take before it is hedged, when a PUT of no bytes may take {@code after}. */
    static Duration threshold(Duration after, int bytes) {
        return after.plusNanos(allowanceNanos(bytes));
    }

    private static long allowanceNanos(int bytes) {
        return bytes * 1_000_000_000L / ALLOWED_BYTES_PER_SECOND; // < 2^31 * 10^9: no overflow
    }

    /** Second PUTs started because a block's first had not answered in time. */
    long hedges() {
        return hedges.sum();
    }

    /**
     * How long a PUT of no bytes may take now before it is hedged: {@code after}, or the recent PUTs' quantile
     * when that is longer (zero when hedging is off).
     */
    synchronized Duration after() {
        if (after.isZero() || quantile == 0 || answered < MIN_SAMPLES) {
            return after;
        }
        long now = nanoTime.getAsLong();
        long[] recent = new long[(int) Math.min(answered, SAMPLES)];
        int known = 0;
        for (int i = 0; i < recent.length; i++) {
            if (now - answeredAt[i] <= MAX_AGE_NANOS) {
                recent[known++] = latencies[i];
            }
        }
        if (known < MIN_SAMPLES) {
            return after;
        }
        Arrays.sort(recent, 0, known);
        long q = Math.min(recent[Math.max(0, (int) Math.ceil(quantile * known) - 1)], after.toNanos() * MAX_FACTOR);
        return q > after.toNanos() ? Duration.ofNanos(q) : after;
    }

    /** A PUT answered (stored or failed) after {@code latencyNanos} beyond its bytes' allowance. */
    synchronized void answered(long latencyNanos) {
        int slot = (int) (answered++ % SAMPLES);
        latencies[slot] = Math.max(0, latencyNanos);
        answeredAt[slot] = nanoTime.getAsLong();
    }

    /** The key the block was stored under. */
    CompletableFuture<ObjectKey> put(Supplier<ObjectKey> keys, ByteBuffer bytes) {
        return put(keys, bytes, new CompletableFuture<>());
    }

    /**
     * The key the block was stored under; {@code settled} completes once no PUT of {@code bytes} is out any more
     * (the loser's too, which can outlast the winner by its whole timeout): until then the bytes are in use,
     * and must be counted as such.
     */
    CompletableFuture<ObjectKey> put(Supplier<ObjectKey> keys, ByteBuffer bytes, CompletableFuture<Void> settled) {
        // PUTs out; a hedge starts only while it is above zero, so once it reaches zero no PUT holds the bytes.
        AtomicInteger out = new AtomicInteger(1);
        ObjectKey first;
        CompletableFuture<Void> firstPut;
        try {
            first = keys.get();
            firstPut = timed(first, bytes);
        } catch (RuntimeException e) {
            settled.complete(null);
            throw e;
        }
        firstPut.whenComplete((v, e) -> putEnded(out, settled));
        if (after.isZero()) {
            return firstPut.thenApply(v -> first);
        }
        CompletableFuture<ObjectKey> stored = new CompletableFuture<>();
        AtomicInteger pending = new AtomicInteger(1);
        settle(firstPut, first, stored, pending);
        var hedge = timer.schedule(() -> {
            // Only while the first PUT is still out: once it failed, its answer stands (counting it back up
            // would let the upload be answered by a hedge started after it had failed).
            if (firstPut.isDone() || out.getAndUpdate(n -> n == 0 ? 0 : n + 1) == 0) {
                return; // the bytes are free once no PUT is out: none may start after that
            }
            if (!pending.compareAndSet(1, 2)) {
                putEnded(out, settled);
                return;
            }
            hedges.increment();
            try {
                ObjectKey second = keys.get();
                CompletableFuture<Void> secondPut = timed(second, bytes);
                secondPut.whenComplete((v, e) -> putEnded(out, settled));
                settle(secondPut, second, stored, pending);
            } catch (RuntimeException e) { // a hedge that cannot start counts as a failed PUT, or the upload hangs
                putEnded(out, settled);
                if (pending.decrementAndGet() == 0) {
                    stored.completeExceptionally(e);
                }
            }
        }, threshold(after(), bytes.remaining()).toNanos(), TimeUnit.NANOSECONDS);
        firstPut.whenComplete((v, e) -> hedge.cancel(false));
        return stored;
    }

    private static void putEnded(AtomicInteger out, CompletableFuture<Void> settled) {
        if (out.decrementAndGet() == 0) {
            settled.complete(null);
        }
    }

    /**
     * A PUT whose latency, once it is answered, joins those the quantile is taken over: the loser's too, and a
     * failed one's (a store timing out or throttling is slow, and must not look fast by going unseen).
     */
    private CompletableFuture<Void> timed(ObjectKey key, ByteBuffer bytes) {
        long started = nanoTime.getAsLong();
        long allowance = allowanceNanos(bytes.remaining());
        CompletableFuture<Void> put = objects.put(key, bytes.duplicate());
        put.whenComplete((v, e) -> answered(nanoTime.getAsLong() - started - allowance));
        return put;
    }

    /** One PUT's outcome: the first stored wins; a later one is deleted; the last failure fails the answer. */
    private void settle(CompletableFuture<Void> put, ObjectKey key, CompletableFuture<ObjectKey> stored,
                        AtomicInteger pending) {
        put.whenComplete((v, failure) -> {
            if (failure == null) {
                if (!stored.complete(key)) {
                    objects.delete(Set.of(key)); // the other PUT won: this copy is never referenced
                }
            } else if (pending.decrementAndGet() == 0) {
                stored.completeExceptionally(failure);
            }
        });
    }
}
