package io.strata.metadata.group;

/**
 * The partition lease: {@code memberId} owns the partition in its group since the owner key was created at
 * {@code modRevision}. A commit for the partition guards that revision, so it fails once the owner changed.
 */
public record PartitionOwner(TopicPartition partition, String memberId, long modRevision) {
}
