package io.strata.ingest.block;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Bounds the bytes an ingest node holds. Acquiring never blocks a thread (gRPC calls arrive on event-loop
 * threads): a caller that does not fit gets a future completed when enough is released, first come first
 * served, or failed with {@link TimeoutException} after its wait; cancelling the future gives its place up.
 * Thread-safe.
 */
public final class ByteBudget {
    private final long capacity;
    private final ScheduledExecutorService timer;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private long used;

    private record Waiter(long bytes, CompletableFuture<Void> future) {
    }

    /** {@code timer} is owned by the caller and only used to time out waits. */
    public ByteBudget(long capacity, ScheduledExecutorService timer) {
        this.capacity = capacity;
        this.timer = timer;
    }

    /** More bytes than the whole budget: waiting would never help. */
    public static final class NeverFits extends IllegalArgumentException {
        private final long bytes;
        private final long capacity;

        NeverFits(long bytes, long capacity) {
            super(bytes + " bytes can never fit in a buffer of " + capacity);
            this.bytes = bytes;
            this.capacity = capacity;
        }

        public long bytes() {
            return bytes;
        }

        public long capacity() {
            return capacity;
        }
    }

    public CompletableFuture<Void> acquire(long bytes, Duration maxWait) {
        if (bytes > capacity) {
            return CompletableFuture.failedFuture(new NeverFits(bytes, capacity));
        }
        CompletableFuture<Void> future = new CompletableFuture<>();
        synchronized (this) {
            if (waiters.isEmpty() && used + bytes <= capacity) {
                used += bytes;
                return CompletableFuture.completedFuture(null);
            }
            waiters.add(new Waiter(bytes, future));
        }
        var timeout = timer.schedule(() -> {
            boolean removed;
            synchronized (this) {
                removed = waiters.removeIf(w -> w.future == future);
            }
            if (removed) {
                future.completeExceptionally(new TimeoutException(
                        "no buffer space for " + bytes + " bytes within " + maxWait.toMillis() + " ms"));
                grantWaiters(); // the head may have been the one that did not fit
            }
        }, maxWait.toMillis(), TimeUnit.MILLISECONDS);
        future.whenComplete((v, e) -> {
            timeout.cancel(false);
            if (future.isCancelled()) {
                // Its caller gave up (answered by its own deadline): its place goes to those behind it now, and
                // what its continuation holds (the request's records) goes with the future.
                boolean removed;
                synchronized (this) {
                    removed = waiters.removeIf(w -> w.future == future);
                }
                if (removed) {
                    // On the budget's timer, not on whatever thread gave up (the JDK's shared timeout thread, say):
                    // the calls granted now are appended on the thread that grants them.
                    try {
                        timer.execute(this::grantWaiters);
                    } catch (java.util.concurrent.RejectedExecutionException closing) {
                        grantWaiters();
                    }
                }
            }
        });
        return future;
    }

    public void release(long bytes) {
        synchronized (this) {
            used -= bytes;
            if (used < 0) {
                throw new IllegalStateException("released more than acquired");
            }
        }
        grantWaiters();
    }

    public synchronized long used() {
        return used;
    }

    public long capacity() {
        return capacity;
    }

    private void grantWaiters() {
        while (true) {
            Waiter granted;
            synchronized (this) {
                Waiter head = waiters.peek();
                if (head == null || used + head.bytes > capacity) {
                    return;
                }
                waiters.poll();
                used += head.bytes;
                granted = head;
            }
            if (!granted.future.complete(null)) {
                release(granted.bytes); // timed out concurrently: give it back
            }
        }
    }
}
