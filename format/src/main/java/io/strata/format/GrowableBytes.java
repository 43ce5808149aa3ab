package io.strata.format;

import java.util.Arrays;

/** An unsynchronized growable byte array (the owner serializes access). */
final class GrowableBytes {
    private byte[] bytes;
    private int size;

    GrowableBytes(int initialCapacity) {
        bytes = new byte[Math.max(16, initialCapacity)];
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

    byte[] toArray() {
        return Arrays.copyOf(bytes, size);
    }

    private void ensure(int more) {
        if (size + more > bytes.length) {
            long wanted = Math.max((long) bytes.length * 2, (long) size + more);
            if (wanted > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("buffer would exceed 2 GiB");
            }
            bytes = Arrays.copyOf(bytes, (int) wanted);
        }
    }
}
