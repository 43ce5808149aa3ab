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

    /** The longest a staging partition keeps its delayed records, past the topic's own retention. */
    public static final long STAGING_RETENTION_MS = 7L * 86_400_000L;

    /**
     * How compaction treats the topic's staging partitions of delayed records ({@link PartitionId#staging}):
     * records are deleted by time only, after the topic's retention but never within a week, and never
     * key-compacted. A staged record is copied into its delay bucket within seconds, so retention only removes
     * records copied long ago, even after the delivering nodes were down for days.
     */
    public Topic stagingView() {
        return new Topic(name, topicId, partitions, Math.max(retentionMs, STAGING_RETENTION_MS), -1, createdAtMs,
                CleanupPolicy.DELETE, deleteRetentionMs);
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
