package io.strata.ingest.block;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * A counting semaphore whose acquire answers a future instead of blocking a thread, granted in request
 * order. Used to bound the blocks an ingest node has sealing, uploading or committing at once. Thread-safe.
 */
public final class AsyncPermits {
    private final ArrayDeque<CompletableFuture<Void>> waiters = new ArrayDeque<>();
    private int available;

    public AsyncPermits(int permits) {
        if (permits < 1) {
            throw new IllegalArgumentException("need at least one permit, not " + permits);
        }
        this.available = permits;
    }

    public CompletableFuture<Void> acquire() {
        synchronized (this) {
            if (available > 0 && waiters.isEmpty()) {
                available--;
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> waiter = new CompletableFuture<>();
            waiters.add(waiter);
            return waiter;
        }
    }

    /** Gives a permit back: to the longest waiter if there is one (completed on this thread). */
    public void release() {
        CompletableFuture<Void> next;
        synchronized (this) {
            next = waiters.poll();
            if (next == null) {
                available++;
                return;
            }
        }
        next.complete(null);
    }

    public synchronized int waiting() {
        return waiters.size();
    }
}
