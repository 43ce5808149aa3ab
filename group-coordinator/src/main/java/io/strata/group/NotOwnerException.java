package io.strata.group;

import io.strata.metadata.group.TopicPartition;
import java.util.Set;

/** A member committed for partitions it does not own (any more): they were revoked; nothing was committed. */
public final class NotOwnerException extends RuntimeException {
    private final Set<TopicPartition> partitions;

    public NotOwnerException(String group, String memberId, Set<TopicPartition> partitions) {
        super("member '" + memberId + "' of group '" + group + "' does not own " + new java.util.TreeSet<>(partitions)
                + ": the partitions were revoked (its session expired or they moved); nothing was committed");
        this.partitions = Set.copyOf(partitions);
    }

    public Set<TopicPartition> partitions() {
        return partitions;
    }
}
