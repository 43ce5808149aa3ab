package io.strata.client;

/**
 * What {@link Admin#alterTopic} changes on a live topic; a null field stays as it is. Retention values of -1 or
 * 0 mean no limit of that kind; the cleanup policy is "delete", "compact" or "compact,delete"; a partition
 * count only grows (the topic's own count changes nothing).
 */
public record TopicAlteration(Long retentionMs, Long retentionBytes, String cleanupPolicy, Long deleteRetentionMs,
                              Integer partitions) {
    /** Changes nothing yet. */
    public static TopicAlteration none() {
        return new TopicAlteration(null, null, null, null, null);
    }

    /** A change of retention and cleanup that leaves the partition count alone. */
    public TopicAlteration(Long retentionMs, Long retentionBytes, String cleanupPolicy, Long deleteRetentionMs) {
        this(retentionMs, retentionBytes, cleanupPolicy, deleteRetentionMs, null);
    }

    public TopicAlteration retentionMs(long value) {
        return new TopicAlteration(value, retentionBytes, cleanupPolicy, deleteRetentionMs, partitions);
    }

    public TopicAlteration retentionBytes(long value) {
        return new TopicAlteration(retentionMs, value, cleanupPolicy, deleteRetentionMs, partitions);
    }

    public TopicAlteration cleanupPolicy(String value) {
        return new TopicAlteration(retentionMs, retentionBytes, value, deleteRetentionMs, partitions);
    }

    public TopicAlteration deleteRetentionMs(long value) {
        return new TopicAlteration(retentionMs, retentionBytes, cleanupPolicy, value, partitions);
    }

    public TopicAlteration partitions(int value) {
        return new TopicAlteration(retentionMs, retentionBytes, cleanupPolicy, deleteRetentionMs, value);
    }
}
