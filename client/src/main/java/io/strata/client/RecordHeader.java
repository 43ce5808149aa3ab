package io.strata.client;

import java.util.Objects;

/** A header of a record. The value array is shared, not copied: do not change it after handing it over. */
public record RecordHeader(String key, byte[] value) {
    public RecordHeader {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
    }
}
