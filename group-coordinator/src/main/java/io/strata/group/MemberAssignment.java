package io.strata.group;

import io.strata.metadata.group.TopicPartition;
import java.util.List;

/**
 * What a member is told: the partitions it owns now (each with where to start it), those of them the target
 * gave to others (commit and release them), and how many partitions the target gives it that their previous
 * owners still hold (it gets them when they are released or their owner's session ends).
 */
public record MemberAssignment(long generation, List<AssignedPartition> owned, List<TopicPartition> revoking,
                               int waiting) {
    public MemberAssignment {
        owned = List.copyOf(owned);
        revoking = List.copyOf(revoking);
    }
}
