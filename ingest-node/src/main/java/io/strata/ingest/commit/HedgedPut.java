package io.strata.ingest.commit;

import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Uploads a block and, when the PUT has not answered within {@code after} plus the time the block's bytes take
 * at {@link #ALLOWED_BYTES_PER_SECOND} ({@link #threshold}), uploads it again under a second key: the first to
 * be stored is the block's object. Object stores have long tails (S3: PUT p50 about
 * 100 ms, p99 several times that) and commits go in seal order, so one slow PUT holds every block behind it;
 * a second PUT rarely is slow too. Safe because every key is new and written with {@code If-None-Match}:
 * the two never overwrite anything, and only the winner's key is committed. The loser, if it is stored
 * too, is deleted (and would otherwise be collected as an orphan). The answer fails only when every PUT
 * started failed. Stateless; thread-safe.
 */
final class HedgedPut {
    /**
     * What one PUT stream is allowed to take for its bytes before its latency counts as slow: 64 MiB/s (~16 ms
     * a MiB), below what one S3 PUT stream moves within a region. Small blocks (the latency-bound case) are
     * hedged after about {@code after}; 8 MiB blocks (the throughput-bound case, where a second upload costs
     * bandwidth that is scarce) 125 ms later.
     */
    static final long ALLOWED_BYTES_PER_SECOND = 64L << 20;

    private HedgedPut() {
    }

    /** How long a PUT of {@code bytes} may take before it is hedged. */
    static Duration threshold(Duration after, int bytes) {
        return after.plusNanos(bytes * 1_000_000_000L / ALLOWED_BYTES_PER_SECOND); // < 2^31 * 10^9: no overflow
    }

    /** The key the block was stored under. {@code hedges} counts second PUTs started. */
    static CompletableFuture<ObjectKey> put(ObjectStore objects, Supplier<ObjectKey> keys, ByteBuffer bytes,
                                            Duration after, ScheduledExecutorService timer, LongAdder hedges) {
        ObjectKey first = keys.get();
        CompletableFuture<Void> firstPut = objects.put(first, bytes.duplicate());
        if (after.isZero() || after.isNegative()) {
            return firstPut.thenApply(v -> first);
        }
        CompletableFuture<ObjectKey> stored = new CompletableFuture<>();
        AtomicInteger pending = new AtomicInteger(1);
        settle(objects, firstPut, first, stored, pending);
        var hedge = timer.schedule(() -> {
            if (firstPut.isDone()) {
                return;
            }
            pending.incrementAndGet();
            hedges.increment();
            ObjectKey second = keys.get();
            settle(objects, objects.put(second, bytes.duplicate()), second, stored, pending);
        }, threshold(after, bytes.remaining()).toNanos(), TimeUnit.NANOSECONDS);
        firstPut.whenComplete((v, e) -> hedge.cancel(false));
        return stored;
    }

    /** One PUT's outcome: the first stored wins; a later one is deleted; the last failure fails the answer. */
    private static void settle(ObjectStore objects, CompletableFuture<Void> put, ObjectKey key,
                               CompletableFuture<ObjectKey> stored, AtomicInteger pending) {
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
