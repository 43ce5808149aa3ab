package io.strata.metadata.group;

/**
 * One partition's offset to commit: the next record the group reads there. {@code epoch} is the ownership the
 * offset was reached under (the partition lease's epoch; 0 when the caller does not know it, as a reset): a
 * commit for an earlier ownership of the partition, delayed past a hand-over and back, is refused rather than
 * moving the offset back.
 */
public record OffsetCommit(TopicPartition partition, long offset, String metadata, long topicId, long epoch) {
    public OffsetCommit {
        if (offset < 0 || metadata == null || topicId <= 0 || epoch < 0) {
            throw new IllegalArgumentException("invalid commit of " + partition + " at " + offset);
        }
    }
}
