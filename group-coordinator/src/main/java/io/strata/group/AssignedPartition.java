package io.strata.group;

import io.strata.metadata.group.TopicPartition;

/**
 * A partition a member owns: since {@code epoch} (the revision its partition lease was created at), starting
 * at {@code startOffset}. A member that gave the partition up ignores a later message of the same epoch
 * (sent before its release was seen); a new epoch is a new ownership with a fresh start.
 */
public record AssignedPartition(TopicPartition partition, long epoch, long startOffset, StartReason reason) {
}
