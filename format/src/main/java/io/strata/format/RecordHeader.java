package io.strata.format;

import java.util.Arrays;
import java.util.Objects;

/** One header of a record: a UTF-8 name and opaque bytes. */
public record RecordHeader(String key, byte[] value) {
    public RecordHeader {
        Objects.requireNonNull(key, "header key");
        Objects.requireNonNull(value, "header value");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RecordHeader h && key.equals(h.key) && Arrays.equals(value, h.value);
    }

    @Override
    public int hashCode() {
        return 31 * key.hashCode() + Arrays.hashCode(value);
    }
}
