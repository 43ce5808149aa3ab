package io.strata.metadata.kv;

/** One change seen by a watch: a put (with the new value) or a delete (value null) at {@code revision}. */
public record KvEvent(Type type, String key, byte[] value, long revision) {
    public enum Type { PUT, DELETE }

    public KvEvent {
        if (type == null || key == null || (type == Type.PUT && value == null)) {
            throw new IllegalArgumentException("invalid event on " + key);
        }
    }
}
