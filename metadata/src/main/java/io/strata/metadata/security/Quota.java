package io.strata.metadata.security;

/**
 * How much one principal may use the cluster per second, all its connections on all nodes together: produce bytes
 * (request bytes as sent), fetch bytes (answer bytes as sent) and requests. 0 means no limit for that measure.
 * {@code entity} is a principal ("User:alice", whatever the caller signed in with) or {@link #DEFAULT}, which
 * holds every principal that has no quota of its own (each for itself, not all together).
 */
public record Quota(String entity, long produceBytesPerSecond, long fetchBytesPerSecond, long requestsPerSecond) {
    /** The entity of the quota of every principal without its own (Kafka's "&lt;default&gt;"). */
    public static final String DEFAULT = "<default>";

    public Quota {
        requireEntity(entity);
        if (produceBytesPerSecond < 0 || fetchBytesPerSecond < 0 || requestsPerSecond < 0) {
            throw new IllegalArgumentException("a quota is 0 (no limit) or a positive rate, not negative");
        }
        if (produceBytesPerSecond == 0 && fetchBytesPerSecond == 0 && requestsPerSecond == 0) {
            throw new IllegalArgumentException("a quota limits at least one of produce bytes, fetch bytes and "
                    + "requests per second (to lift a quota, remove it)");
        }
    }

    public static String requireEntity(String entity) {
        if (DEFAULT.equals(entity)) {
            return entity;
        }
        if (entity == null || !entity.startsWith(Principals.USER) || Principals.ANY_USER.equals(entity)) {
            throw new IllegalArgumentException("a quota is for User:NAME or " + DEFAULT + ", not "
                    + io.strata.metadata.InputText.quoted(entity == null ? "" : entity));
        }
        return Principals.requireValid(entity);
    }
}
