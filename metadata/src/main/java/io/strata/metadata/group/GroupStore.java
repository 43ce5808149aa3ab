package io.strata.metadata.group;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Consumer groups in the metadata store (see docs/architecture.md, "Consumer groups"): members under session
 * leases their heartbeats renew, partition leases (owner keys bound to the owner's session), the target
 * assignment, and committed offsets fenced by the partition leases. Deciding the assignment is not its
 * business (that is the group coordinator's); it keeps what was decided and refuses what would break the
 * invariants: two owners of one partition, a commit by a member that does not own the partition.
 *
 * <p>Thread-safe; every future completes within the store's timeouts, failing with a
 * {@link io.strata.metadata.MetadataException}.
 */
public interface GroupStore {

    /** Registers a new member under a session lease of the spec's timeout; creates the group on first use. */
    CompletableFuture<GroupMember> join(String group, MemberSpec spec);

    /** Renews the member's session; false when the member is unknown (never joined, left, or expired). */
    CompletableFuture<Boolean> heartbeat(String group, String memberId);

    /** The member as its key holds it; empty when it is not in the group. */
    CompletableFuture<java.util.Optional<GroupMember>> member(String group, String memberId);

    /** Renews a member's session by its lease (read once through {@link #member}); false when it ended. */
    CompletableFuture<Boolean> renew(GroupMember member);

    /** Ends the member's session at once: its member and owner keys go; false when it was not there. */
    CompletableFuture<Boolean> leave(String group, String memberId);

    /** The group's coordination at one revision. */
    CompletableFuture<GroupSnapshot> read(String group);

    /** Changes of the group's coordination after {@code afterRevision}, until the handle is closed. */
    AutoCloseable watch(String group, long afterRevision, GroupListener listener);

    /**
     * Puts the target if the target key is still at {@code expectedModRevision} (0: absent); false on a
     * conflict (read again, decide again).
     */
    CompletableFuture<Boolean> publishTarget(String group, TargetAssignment target, long expectedModRevision);

    /**
     * Takes the partitions that have no owner for {@code member}, each bound to its session; answers those
     * it took, each with the revision its owner key was created at (the ownership's epoch). A partition
     * someone else holds is left alone, and so is everything once the session is gone.
     */
    CompletableFuture<Map<TopicPartition, Long>> acquire(String group, GroupMember member, Collection<TopicPartition> partitions);

    /**
     * Commits offsets for partitions the member owns, and gives up the partitions in {@code release} (after
     * their offsets, in the same transaction when they fit one), each guarded by its partition lease.
     * Nothing is written when the member is unknown or does not own one of them. One transaction per call
     * when the store's limits allow it.
     */
    CompletableFuture<CommitOutcome> commit(String group, String memberId, List<OffsetCommit> offsets,
                                            Set<TopicPartition> release);

    /** Every committed offset of the group. */
    CompletableFuture<Map<TopicPartition, CommittedOffset>> committed(String group);

    /** Every committed offset of every group, by group, in one range read (for the lag of all groups). */
    CompletableFuture<Map<String, Map<TopicPartition, CommittedOffset>>> committedAll();

    /** Every group, by name. */
    CompletableFuture<List<String>> listGroups();

    /** Every group's coordination, in two range reads whatever the number of groups (for listings). */
    CompletableFuture<Map<String, GroupSnapshot>> readAll();

    /**
     * Writes these offsets as the group's committed offsets (a reset). Refused with
     * {@link GroupActiveException} while the group has live members, unless {@code force}; refused with
     * {@link UnknownGroupException} for a group that does not exist.
     */
    CompletableFuture<Void> resetOffsets(String group, Collection<OffsetCommit> offsets, boolean force);

    /**
     * Deletes the group: its committed offsets, target and registration. Refused with
     * {@link GroupActiveException} while it has live members unless {@code force}, which ends their sessions
     * first; false when there was no such group.
     */
    CompletableFuture<Boolean> delete(String group, boolean force);
}
