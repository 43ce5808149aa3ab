package io.strata.metadata;

/**
 * A topic as stored. {@code topicId} is unique for the life of the cluster, never reused. Retention values
 * of 0 or less mean no limit of that kind; {@code deleteRetentionMs} is how long a compacted topic keeps a
 * key's tombstone.
 */
public record Topic(String name, long topicId, int partitions, long retentionMs, long retentionBytes,
                    long createdAtMs, CleanupPolicy cleanupPolicy, long deleteRetentionMs) {
    /** A day, as Kafka's {@code delete.retention.ms}. */
    public static final long DEFAULT_DELETE_RETENTION_MS = 86_400_000L;

    public Topic {
        if (name == null || topicId <= 0 || partitions < 1 || cleanupPolicy == null || deleteRetentionMs < 0) {
            throw new IllegalArgumentException("invalid topic " + name + " id=" + topicId);
        }
    }

    /** A topic whose old records are deleted by retention. */
    public Topic(String name, long topicId, int partitions, long retentionMs, long retentionBytes, long createdAtMs) {
        this(name, topicId, partitions, retentionMs, retentionBytes, createdAtMs, CleanupPolicy.DELETE,
                DEFAULT_DELETE_RETENTION_MS);
    }

    public PartitionId partition(int partition) {
        if (partition < 0 || partition >= partitions) {
            throw new IllegalArgumentException("partition " + partition + " out of range for topic " + name
                    + " (0.." + (partitions - 1) + ")");
        }
        return new PartitionId(topicId, partition);
    }

    /**
     * The same topic with what {@code change} sets. A partition count may grow or stay (so a retried change is
     * harmless), never shrink ({@link PartitionCountException}).
     */
    public Topic with(TopicChange change) {
        if (change.partitions().isPresent() && change.partitions().getAsInt() < partitions) {
            throw new PartitionCountException(name, partitions, change.partitions().getAsInt());
        }
        return new Topic(name, topicId, change.partitions().orElse(partitions), change.retentionMs().orElse(retentionMs),
                change.retentionBytes().orElse(retentionBytes), createdAtMs,
                change.cleanupPolicy().orElse(cleanupPolicy), change.deleteRetentionMs().orElse(deleteRetentionMs));
    }
}
