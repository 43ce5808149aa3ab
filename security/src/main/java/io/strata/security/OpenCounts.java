package io.strata.security;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many connections (or streams) each key — a client address, a principal — has open, each held to a bound: one
 * client cannot take the node's sockets, threads or memory from all the others. Keys are forgotten at zero, so
 * the map holds only what is open. Thread-safe.
 */
public final class OpenCounts {
    private final int max;
    private final ConcurrentHashMap<String, AtomicInteger> open = new ConcurrentHashMap<>();

    /** {@code max} per key; 0 or less: no bound (counted all the same). */
    public OpenCounts(int max) {
        this.max = max;
    }

    /** Counts one more for {@code key}; false (and nothing counted) when it has {@code max} open already. */
    public boolean tryOpen(String key) {
        boolean[] admitted = {false};
        open.compute(key, (k, n) -> {
            AtomicInteger count = n == null ? new AtomicInteger() : n;
            if (max <= 0 || count.get() < max) {
                count.incrementAndGet();
                admitted[0] = true;
            }
            return count.get() == 0 ? null : count;
        });
        return admitted[0];
    }

    /** One of {@code key}'s closed (after a {@link #tryOpen} that answered true). */
    public void close(String key) {
        open.computeIfPresent(key, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
    }

    public int open(String key) {
        AtomicInteger n = open.get(key);
        return n == null ? 0 : n.get();
    }

    public int max() {
        return max;
    }
}
