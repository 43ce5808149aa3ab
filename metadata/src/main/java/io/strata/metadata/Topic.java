package io.strata.metadata;

/** A topic as stored. {@code topicId} is unique for the life of the cluster, never reused. */
public record Topic(String name, long topicId, int partitions, long retentionMs, long retentionBytes,
                    long createdAtMs) {
    public Topic {
        if (name == null || topicId <= 0 || partitions < 1) {
            throw new IllegalArgumentException("invalid topic " + name + " id=" + topicId);
        }
    }

    public PartitionId partition(int partition) {
        if (partition < 0 || partition >= partitions) {
            throw new IllegalArgumentException("partition " + partition + " out of range for topic " + name
                    + " (0.." + (partitions - 1) + ")");
        }
        return new PartitionId(topicId, partition);
    }
}
