package io.strata.format;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One record as the block format stores it. {@code key} may be null (no key, which is not the same as an
 * empty key). Offsets are not part of a record: they are assigned when the block is committed.
 */
public record LogRecord(byte[] key, byte[] value, List<RecordHeader> headers, long timestampMs) {
    public LogRecord {
        Objects.requireNonNull(value, "value");
        headers = headers == null ? List.of() : List.copyOf(headers);
    }

    /** Bytes the record occupies in a chunk before compression, at most (used for size limits and batching). */
    public int encodedSizeUpperBound() {
        int size = 5 + 10 + 5 + (key == null ? 0 : key.length) + 5 + value.length + 5;
        for (RecordHeader h : headers) {
            size += 10 + h.key().length() * 3 + h.value().length;
        }
        return size;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LogRecord r && timestampMs == r.timestampMs && Arrays.equals(key, r.key)
                && Arrays.equals(value, r.value) && headers.equals(r.headers);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(key), Arrays.hashCode(value), headers, timestampMs);
    }

    @Override
    public String toString() {
        return "LogRecord[key=" + (key == null ? "null" : key.length + "B") + ", value=" + value.length
                + "B, headers=" + headers.size() + ", ts=" + timestampMs + "]";
    }
}
