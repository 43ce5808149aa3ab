package io.strata.format;

import java.util.Arrays;

/**
 * An unsynchronized growable byte array (the owner serializes access), whose arrays come from a
 * {@link ByteArrayPool} and go back to it when outgrown or {@link #release released}.
 */
final class GrowableBytes {
    private final ByteArrayPool pool;
    private byte[] bytes;
    private int size;

    GrowableBytes(int initialCapacity) {
        this(initialCapacity, ByteArrayPool.NONE);
    }

    GrowableBytes(int initialCapacity, ByteArrayPool pool) {
        this.pool = pool;
        bytes = pool.take(Math.max(16, initialCapacity));
    }

    void write(byte b) {
        ensure(1);
        bytes[size++] = b;
    }

    void write(byte[] src) {
        ensure(src.length);
        System.arraycopy(src, 0, bytes, size, src.length);
        size += src.length;
    }

    void write(GrowableBytes src) {
        ensure(src.size);
        System.arraycopy(src.bytes, 0, bytes, size, src.size);
        size += src.size;
    }

    int size() {
        return size;
    }

    void reset() {
        size = 0;
    }

    byte[] array() {
        return bytes;
    }

    /** Gives the array back to the pool; nothing may be read or written after. */
    void release() {
        if (bytes != null) {
            pool.give(bytes);
            bytes = null;
        }
    }

    byte[] toArray() {
        return Arrays.copyOf(bytes, size);
    }

    private void ensure(int more) {
        if (size + more > bytes.length) {
            long wanted = Math.max((long) bytes.length * 2, (long) size + more);
            if (wanted > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("buffer would exceed 2 GiB");
            }
            byte[] grown = pool.take((int) wanted);
            System.arraycopy(bytes, 0, grown, 0, size);
            pool.give(bytes);
            bytes = grown;
        }
    }
}
