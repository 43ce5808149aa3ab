package io.strata.metadata.kv;

/**
 * A condition of a transaction: the key's mod revision is {@code modRevision}, where 0 means "the key is
 * absent". A writer that read a key at some revision guards its write with it, so a concurrent write fails
 * the transaction instead of being overwritten.
 */
public record KvGuard(String key, long modRevision) {
    public KvGuard {
        if (key == null || modRevision < 0) {
            throw new IllegalArgumentException("invalid guard on " + key);
        }
    }

    public static KvGuard absent(String key) {
        return new KvGuard(key, 0);
    }
}
