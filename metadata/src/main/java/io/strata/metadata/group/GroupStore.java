package io.strata.metadata.group;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Consumer groups in the metadata store (see docs/architecture.md, "Consumer groups"): members, partition
 * leases (owner keys), the target assignment, and committed offsets fenced by the partition leases. Deciding
 * the assignment is not its business (that is the group coordinator's); it keeps what was decided and refuses
 * what would break the invariants: two owners of one partition, a commit by a member that does not own the
 * partition.
 *
 * <p>Sessions are hosted: a member's heartbeats reach one node, which keeps the member's session in memory and
 * binds the member's keys (its member key and its partition leases) to that node's <em>host lease</em>. The
 * store then costs nothing per heartbeat, only one lease renewal per node. The node ends a silent member
 * with {@link #expire}; when the node itself dies, its lease ends every session it hosted; a member whose
 * heartbeats move to another node is {@link #adopt adopted} there.
 *
 * <p>Thread-safe; every future completes within the store's timeouts, failing with a
 * {@link io.strata.metadata.MetadataException}.
 */
public interface GroupStore {

    /** A host lease of this TTL (whole seconds) that only {@link #renewHostLease} keeps alive. */
    CompletableFuture<Long> grantHostLease(java.time.Duration ttl);

    /** Extends the host lease by its TTL; false when it is gone (its members with it). */
    CompletableFuture<Boolean> renewHostLease(long lease);

    /**
     * Registers a new member whose keys live as long as {@code hostLease}; creates the group on first use. A
     * member that names its own id ({@link MemberSpec#memberId}) fails with {@link MemberIdTakenException} while
     * a member of that id is in the group.
     */
    CompletableFuture<GroupMember> join(String group, MemberSpec spec, long hostLease);

    /**
     * Moves the member's keys (its member key and partition leases) onto {@code hostLease}, keeping every
     * ownership's epoch; empty when the member is not in the group.
     */
    CompletableFuture<java.util.Optional<GroupMember>> adopt(String group, String memberId, long hostLease);

    /** The member as its key holds it; empty when it is not in the group. */
    CompletableFuture<java.util.Optional<GroupMember>> member(String group, String memberId);

    /** Ends the member at once: its member and owner keys go; false when it was not there. */
    CompletableFuture<Boolean> leave(String group, String memberId);

    /**
     * Ends the member as {@code hosted} knew it (its key still at {@code hosted.revision()}): false, and nothing
     * changed, when it is gone or another node adopted it since.
     */
    CompletableFuture<Boolean> expire(String group, GroupMember hosted);

    /**
     * Deletes partition leases whose member is gone (left behind when a partition was taken while its member
     * was leaving); answers how many.
     */
    CompletableFuture<Integer> dropOrphans(GroupSnapshot snapshot);

    /** The group's coordination at one revision. */
    CompletableFuture<GroupSnapshot> read(String group);

    /**
     * Changes of every group's coordination after {@code afterRevision}, until the handle is closed: one watch
     * for all groups (a watch per group costs etcd a stream each: half a core at 10,000 groups).
     */
    AutoCloseable watchAll(long afterRevision, GroupListener listener);

    /**
     * Puts the target if the target key is still at {@code expectedModRevision} (0: absent); false on a
     * conflict (read again, decide again).
     */
    CompletableFuture<Boolean> publishTarget(String group, TargetAssignment target, long expectedModRevision);

    /**
     * Takes the partitions that have no owner for {@code member}, each bound to its host lease; answers those
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

    /** Every group's coordination, in two range reads whatever the number of groups (for listings). */
    CompletableFuture<Map<String, GroupSnapshot>> readAll();

    /**
     * Writes these offsets as the group's committed offsets (a reset). Refused with
     * {@link GroupActiveException} while the group has live members, unless {@code force}; refused with
     * {@link UnknownGroupException} for a group that does not exist.
     */
    CompletableFuture<Void> resetOffsets(String group, Collection<OffsetCommit> offsets, boolean force);

    /**
     * Writes offsets committed by a client that is no member of the group (a Kafka consumer that assigns its
     * partitions itself, as Kafka allows while a group has no members): refused with {@link GroupActiveException}
     * while the group has live members; the group is created on first use.
     */
    CompletableFuture<Void> commitWithoutMembers(String group, Collection<OffsetCommit> offsets);

    /**
     * Deletes the group's committed offsets of {@code partitions}, except those of topics a live member subscribes
     * to (answered: nothing of them is deleted). Fails with {@link UnknownGroupException} for a group that does
     * not exist. A member joining meanwhile makes it decide again.
     */
    CompletableFuture<Set<TopicPartition>> deleteOffsets(String group, Collection<TopicPartition> partitions);

    /**
     * Deletes the group: its committed offsets, target and registration. Refused with
     * {@link GroupActiveException} while it has live members unless {@code force}, which ends them first; false when there was no such group.
     */
    CompletableFuture<Boolean> delete(String group, boolean force);
}
