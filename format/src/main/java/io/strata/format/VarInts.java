package io.strata.format;

import java.nio.ByteBuffer;

/** Unsigned LEB128 varints and zigzag encoding, with strict bounds checks on decoding. */
final class VarInts {
    private VarInts() {
    }

    static void writeUnsigned(GrowableBytes out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((byte) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.write((byte) value);
    }

    /** The zigzag form of a signed value, written as an unsigned varint. */
    static long zigZag(long value) {
        return (value << 1) ^ (value >> 63);
    }

    /** Bytes {@link #writeUnsigned} takes for {@code value}. */
    static int size(long value) {
        int bytes = 1;
        while ((value & ~0x7FL) != 0) {
            value >>>= 7;
            bytes++;
        }
        return bytes;
    }

    static void writeZigZag(GrowableBytes out, long value) {
        writeUnsigned(out, zigZag(value));
    }

    static long readUnsigned(ByteBuffer in) {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!in.hasRemaining()) {
                throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED, "varint runs past the end");
            }
            byte b = in.get();
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "varint longer than 10 bytes");
    }

    static long readZigZag(ByteBuffer in) {
        long raw = readUnsigned(in);
        return (raw >>> 1) ^ -(raw & 1);
    }

    /** A length that must fit in what is left of {@code in}. */
    static int readLength(ByteBuffer in, String what) {
        long length = readUnsigned(in);
        if (length > in.remaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT,
                    what + " length " + length + " exceeds the " + in.remaining() + " bytes left");
        }
        return (int) length;
    }
}
