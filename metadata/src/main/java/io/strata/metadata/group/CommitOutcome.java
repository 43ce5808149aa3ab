package io.strata.metadata.group;

import java.util.Set;

/** What became of a member's commit: all of it was written, or none of it because of the first reason found. */
public sealed interface CommitOutcome {
    record Committed() implements CommitOutcome {
    }

    /** The member is not (or no longer) in the group: its session expired, it left, or it never joined. */
    record UnknownMember() implements CommitOutcome {
    }

    /** The member does not own these partitions (never had them, or lost them): a zombie is fenced here. */
    record NotOwner(Set<TopicPartition> partitions) implements CommitOutcome {
    }
}
