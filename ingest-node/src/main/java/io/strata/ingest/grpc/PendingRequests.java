package io.strata.ingest.grpc;

import java.util.ArrayDeque;

/**
 * Bounds the bytes of produce requests a node has received and not yet admitted into its buffer (whose own
 * bound, {@link io.strata.ingest.block.ByteBudget}, counts them only once they are in): without it, requests
 * waiting for admission — a stream's pipelined ones, any number of streams and unary calls — could hold any
 * amount of memory. A unary call that does not fit is refused at once; a stream reads its next request only
 * while there is room, so gRPC's flow control holds its client back (and it holds at most one request beyond
 * the bound, the one it had asked for). Thread-safe; never blocks.
 */
public final class PendingRequests {
    private final long capacity;
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    private long used;

    public PendingRequests(long capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, not " + capacity);
        }
        this.capacity = capacity;
    }

    /** Takes {@code bytes} if they fit; false, and nothing taken, if not. */
    public synchronized boolean tryTake(long bytes) {
        if (used + bytes > capacity && used > 0) {
            return false;
        }
        used += bytes;
        return true;
    }

    /** Takes {@code bytes} whatever the room: for a request already read, which is held either way. */
    public synchronized void take(long bytes) {
        used += bytes;
    }

    public void give(long bytes) {
        java.util.List<Runnable> wake = new java.util.ArrayList<>();
        synchronized (this) {
            used -= bytes;
            if (used < 0) {
                throw new IllegalStateException("gave back more than was taken");
            }
            while (used < capacity && !waiting.isEmpty()) {
                wake.add(waiting.poll());
            }
        }
        wake.forEach(Runnable::run);
    }

    /** Whether a stream may read one more request now. */
    public synchronized boolean hasRoom() {
        return used < capacity;
    }

    /** Runs {@code wakeup} once there is room: at once (on this thread) if there is now. */
    public void whenRoom(Runnable wakeup) {
        synchronized (this) {
            if (used >= capacity) {
                waiting.add(wakeup);
                return;
            }
        }
        wakeup.run();
    }

    public synchronized long used() {
        return used;
    }

    public long capacity() {
        return capacity;
    }
}
