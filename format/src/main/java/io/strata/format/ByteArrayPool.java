package io.strata.format;

import java.util.ArrayDeque;

/**
 * Byte arrays of one size, kept for reuse. A producer's batch buffers live from the first record until the
 * batch is acknowledged — far longer than a young-generation collection — so allocating them afresh makes
 * the collector copy every buffered byte between survivor spaces and into the old generation, which at
 * hundreds of MB/s costs more CPU than compressing them (docs/benchmarks.md). Pooled arrays are allocated
 * once, settle in the old generation and are never copied again; this is why Kafka's producer has its
 * BufferPool.
 *
 * <p>Only requests above half the pool's size get pooled arrays (smaller ones are allocated as asked, and
 * die young), so a buffer never wastes more than half of itself and a producer of many small batches does
 * not pin a large array per batch. At most {@code maxKept} arrays are kept; what comes back beyond that is
 * left to the collector. Thread-safe.
 */
public final class ByteArrayPool {
    /** A pool that keeps nothing: every request is a fresh array of the size asked. */
    public static final ByteArrayPool NONE = new ByteArrayPool(0, 0);

    private final int bufferSize;
    private final int maxKept;
    private final ArrayDeque<byte[]> kept = new ArrayDeque<>();

    public ByteArrayPool(int bufferSize, int maxKept) {
        if (bufferSize < 0 || maxKept < 0) {
            throw new IllegalArgumentException("need a size and a count >= 0, got " + bufferSize + ", " + maxKept);
        }
        this.bufferSize = bufferSize;
        this.maxKept = maxKept;
    }

    /** An array of at least {@code minSize} bytes; its contents are undefined. */
    public byte[] take(int minSize) {
        if (minSize <= bufferSize && minSize > bufferSize / 2) {
            synchronized (kept) {
                byte[] array = kept.pollLast();
                if (array != null) {
                    return array;
                }
            }
            return new byte[bufferSize];
        }
        return new byte[minSize];
    }

    /** Gives back an array from {@link #take}, which its giver must no longer touch. */
    public void give(byte[] array) {
        if (array.length != bufferSize || bufferSize == 0) {
            return;
        }
        synchronized (kept) {
            if (kept.size() < maxKept) {
                kept.addLast(array);
            }
        }
    }

    /** How many arrays are kept now (for tests and metrics). */
    public int kept() {
        synchronized (kept) {
            return kept.size();
        }
    }
}
