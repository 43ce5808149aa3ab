package io.strata.storage.object;

/** A range of bytes inside an object: {@code length} bytes from {@code offset}. */
public record ByteRange(long offset, long length) {
    public ByteRange {
        if (offset < 0 || length <= 0 || offset + length < 0) {
            throw new IllegalArgumentException("invalid byte range @" + offset + "+" + length);
        }
    }

    public static ByteRange of(long offset, long length) {
        return new ByteRange(offset, length);
    }

    /** The first byte after the range. */
    public long end() {
        return offset + length;
    }
}
