package io.strata.client;

/**
 * What {@link Admin#alterTopic} changes on a live topic; a null field stays as it is. Retention values of -1 or
 * 0 mean no limit of that kind; the cleanup policy is "delete", "compact" or "compact,delete".
 */
public record TopicAlteration(Long retentionMs, Long retentionBytes, String cleanupPolicy, Long deleteRetentionMs) {
    /** Changes nothing yet. */
    public static TopicAlteration none() {
        return new TopicAlteration(null, null, null, null);
    }

    public TopicAlteration retentionMs(long value) {
        return new TopicAlteration(value, retentionBytes, cleanupPolicy, deleteRetentionMs);
    }

    public TopicAlteration retentionBytes(long value) {
        return new TopicAlteration(retentionMs, value, cleanupPolicy, deleteRetentionMs);
    }

    public TopicAlteration cleanupPolicy(String value) {
        return new TopicAlteration(retentionMs, retentionBytes, value, deleteRetentionMs);
    }

    public TopicAlteration deleteRetentionMs(long value) {
        return new TopicAlteration(retentionMs, retentionBytes, cleanupPolicy, value);
    }
}
