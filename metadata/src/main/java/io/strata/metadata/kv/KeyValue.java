package io.strata.metadata.kv;

/**
 * A key and its value as a {@link KvStore} holds it. Revisions are the store's: {@code modRevision} changes
 * with every put of the key, so comparing it is how a transaction detects a concurrent writer.
 * {@code lease} is 0 for a key that lives until deleted.
 */
public record KeyValue(String key, byte[] value, long createRevision, long modRevision, long lease) {
    public KeyValue {
        if (key == null || value == null || modRevision <= 0 || createRevision <= 0) {
            throw new IllegalArgumentException("invalid key value " + key);
        }
    }
}
