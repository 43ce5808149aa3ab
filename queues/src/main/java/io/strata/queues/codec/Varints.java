package io.strata.queues.codec;

import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/** Unsigned LEB128 varints, strict: a value past the longest, or cut short, is an IllegalArgumentException. */
public final class Varints {
    private Varints() {
    }

    public static void write(ByteArrayOutputStream out, long v) {
        if (v < 0) {
            throw new IllegalArgumentException("negative " + v);
        }
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    public static long read(ByteBuffer in) {
        try {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte b = in.get();
                if (shift == 63 && (b & 0xFF) > 0) {
                    // A tenth byte could only carry the sign bit: every value written here is at most 63 bits.
                    throw new IllegalArgumentException("a varint past the longest value");
                }
                v |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    if (b == 0 && shift > 0) {
                        throw new IllegalArgumentException("a varint padded with a zero byte");
                    }
                    return v;
                }
            }
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("a varint cut short", e);
        }
        throw new IllegalArgumentException("a varint longer than ten bytes");
    }

    /** A count or length that cannot exceed what is left to read. */
    public static int count(ByteBuffer in) {
        long n = read(in);
        if (n > in.remaining() + 1L || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a count of " + n + " with " + in.remaining() + " bytes left");
        }
        return (int) n;
    }
}
