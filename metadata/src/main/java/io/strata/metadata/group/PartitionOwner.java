package io.strata.metadata.group;

/**
 * The partition lease: {@code memberId} owns the partition in its group since the owner key was created at
 * revision {@code epoch}. The epoch survives the key moving to another node's lease (a put keeps a key's
 * create revision) and changes only when the partition is taken anew; {@code revision} is the key's mod
 * revision, which a change of the key guards.
 */
public record PartitionOwner(TopicPartition partition, String memberId, long epoch, long revision) {
}
