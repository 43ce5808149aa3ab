package io.strata.metadata.group;

/** One partition's offset to commit: the next record the group reads there. */
public record OffsetCommit(TopicPartition partition, long offset, String metadata, long topicId) {
    public OffsetCommit {
        if (offset < 0 || metadata == null || topicId <= 0) {
            throw new IllegalArgumentException("invalid commit of " + partition + " at " + offset);
        }
    }
}
