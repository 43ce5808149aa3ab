package io.strata.storage.object;

import java.time.Instant;

/** What a listing says of one object. */
public record ObjectInfo(ObjectKey key, long sizeBytes, Instant lastModified) {
    public ObjectInfo {
        if (key == null || sizeBytes < 0 || lastModified == null) {
            throw new IllegalArgumentException("invalid object info for " + key);
        }
    }
}
