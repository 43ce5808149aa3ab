package io.strata.metadata;

/** One partition of one topic incarnation (a re-created topic gets a new id, so old data never mixes in). */
public record PartitionId(long topicId, int partition) implements Comparable<PartitionId> {
    public PartitionId {
        if (topicId <= 0 || partition < 0) {
            throw new IllegalArgumentException("invalid partition " + topicId + "/" + partition);
        }
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
