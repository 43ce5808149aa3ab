package io.strata.metadata;

/** One partition of one topic incarnation (a re-created topic gets a new id, so old data never mixes in). */
public record PartitionId(long topicId, int partition) implements Comparable<PartitionId> {
    /**
     * Delayed records for partition p wait in the staging partition {@code p | STAGING_BIT} of the same topic
     * (docs/queues.md, "Delayed delivery"): a log of its own, which no client can name (partitions are below the
     * topic's count, far below this bit), compacted and expired as the topic's partitions are.
     */
    public static final int STAGING_BIT = io.strata.format.DeliverAt.STAGING_BIT;

    public PartitionId {
        if (topicId <= 0 || partition < 0) {
            throw new IllegalArgumentException("invalid partition " + topicId + "/" + partition);
        }
    }

    /** Whether this is a staging partition of delayed records. */
    public boolean isStaging() {
        return (partition & STAGING_BIT) != 0;
    }

    /** The staging partition of this partition's delayed records. */
    public PartitionId staging() {
        return new PartitionId(topicId, partition | STAGING_BIT);
    }

    /**
     * The half log of this partition's half messages (docs/transactions.md, "Half messages with check-back"): a
     * staging partition too (compacted and expired as staging logs are), apart from the delayed records' one.
     */
    public PartitionId half() {
        return new PartitionId(topicId, io.strata.format.HalfMessages.log(partition));
    }

    /** Whether this is a half log. */
    public boolean isHalf() {
        return io.strata.format.HalfMessages.isLog(partition);
    }

    /** The partition a staging partition's (or half log's) records are delivered to (itself for any other partition). */
    public PartitionId target() {
        return new PartitionId(topicId, io.strata.format.HalfMessages.target(partition));
    }

    @Override
    public int compareTo(PartitionId o) {
        int c = Long.compare(topicId, o.topicId);
        return c != 0 ? c : Integer.compare(partition, o.partition);
    }

    @Override
    public String toString() {
        return topicId + "/" + partition;
    }
}
