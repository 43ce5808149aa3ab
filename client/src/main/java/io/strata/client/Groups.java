package io.strata.client;

import io.strata.api.v1.DeleteGroupRequest;
import io.strata.api.v1.DescribeGroupRequest;
import io.strata.api.v1.FetchCommittedRequest;
import io.strata.api.v1.GroupServiceGrpc;
import io.strata.api.v1.ListGroupsRequest;
import io.strata.api.v1.ResetOffsetsRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Consumer groups' administration: list, describe (members and lag), committed offsets, reset and delete.
 * Every method blocks for one call within the client's deadline and throws {@link StrataException}; a node
 * that cannot be reached is passed over for the next one the client knows ({@link NodeRouter#onAnyNode}).
 * Thread-safe; made and owned by {@link StrataClient}.
 */
public final class Groups {
    private final NodeRouter router;
    private final Duration deadline;

    Groups(NodeRouter router, Duration deadline) {
        this.router = router;
        this.deadline = deadline;
    }

    /** A group and how it stands. */
    public record Listing(String group, String state, int members) {
    }

    /** A member of a group, with the partitions it owns ("topic/partition"). */
    public record Member(String memberId, String clientId, String clientAddress, List<String> topics,
                         int sessionTimeoutMs, List<String> owned) {
    }

    /** A partition's progress in a group; committed and lag are -1 where nothing was committed. */
    public record PartitionLag(String topic, int partition, String owner, long committed, long logStart, long end,
                               long lag) {
    }

    /** A group's state (EMPTY, STABLE, REBALANCING), members and per-partition lag. */
    public record Description(String group, String state, long generation, List<Member> members,
                              List<PartitionLag> partitions) {
    }

    /** Where a reset moves a group's offsets. */
    public sealed interface ResetTo {
        record Earliest() implements ResetTo {
        }

        record Latest() implements ResetTo {
        }

        record Offset(long offset) implements ResetTo {
        }

        record Timestamp(long timestampMs) implements ResetTo {
        }

        record ShiftBy(long delta) implements ResetTo {
        }
    }

    private <T> T call(Function<GroupServiceGrpc.GroupServiceBlockingStub, T> rpc) {
        return router.onAnyNode(channel -> rpc.apply(GroupServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)));
    }

    /** For calls that must not be carried out twice: on another node only if it surely never reached this one. */
    private <T> T callAtMostOnce(Function<GroupServiceGrpc.GroupServiceBlockingStub, T> rpc) {
        return router.onAnyNodeAtMostOnce(channel -> rpc.apply(GroupServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)));
    }

    public List<Listing> list() {
        return call(stub -> stub.listGroups(ListGroupsRequest.getDefaultInstance())).getGroupsList().stream()
                .map(g -> new Listing(g.getGroup(), g.getState(), g.getMembers())).toList();
    }

    /** Fails with NOT_FOUND for an unknown group. */
    public Description describe(String group) {
        var d = call(stub -> stub.describeGroup(DescribeGroupRequest.newBuilder().setGroup(group).build()));
        return new Description(d.getGroup(), d.getState(), d.getGeneration(), d.getMembersList().stream()
                .map(m -> new Member(m.getMemberId(), m.getClientId(), m.getClientAddress(), m.getTopicsList(),
                        m.getSessionTimeoutMs(), m.getOwnedList().stream()
                        .map(p -> p.getTopic() + "/" + p.getPartition()).toList())).toList(),
                d.getPartitionsList().stream().map(p -> new PartitionLag(p.getTopic(), p.getPartition(), p.getOwner(),
                        p.getCommitted(), p.getLogStart(), p.getEnd(), p.getLag())).toList());
    }

    /** The group's committed offsets of one topic, by partition. */
    public Map<Integer, Long> committed(String group, String topic) {
        Map<Integer, Long> out = new TreeMap<>();
        call(stub -> stub.fetchCommitted(FetchCommittedRequest.newBuilder().setGroup(group).setTopic(topic).build()))
                .getOffsetsList().forEach(c -> out.put(c.getPartition(), c.getOffset()));
        return out;
    }

    /**
     * Moves the group's committed offsets, for one topic (null: every topic it committed for) and one partition
     * (null: all). Refused with FAILED_PRECONDITION while the group has live members unless {@code force}.
     * Answers the new offsets as "topic/partition" → offset. A reset to a time needs a node with the fetch role.
     */
    public Map<String, Long> reset(String group, ResetTo to, String topic, Integer partition, boolean force) {
        ResetOffsetsRequest.Builder r = ResetOffsetsRequest.newBuilder().setGroup(group).setForce(force);
        if (to instanceof ResetTo.Earliest) {
            r.setEarliest(true);
        } else if (to instanceof ResetTo.Latest) {
            r.setLatest(true);
        } else if (to instanceof ResetTo.Offset o) {
            r.setOffset(o.offset());
        } else if (to instanceof ResetTo.Timestamp t) {
            r.setTimestampMs(t.timestampMs());
        } else {
            r.setShiftBy(((ResetTo.ShiftBy) to).delta());
        }
        if (topic != null) {
            r.setTopic(topic);
        }
        if (partition != null) {
            r.setPartition(partition);
        }
        Map<String, Long> out = new TreeMap<>();
        // A shift moves the offsets from where they are, so it must not be applied twice; the other resets set
        // them to where the same request always sets them and may go to another node (a reset to a time
        // needs one with the fetch role).
        java.util.function.Function<GroupServiceGrpc.GroupServiceBlockingStub, io.strata.api.v1.ResetOffsetsResponse>
                reset = stub -> stub.resetOffsets(r.build());
        (to instanceof ResetTo.ShiftBy ? callAtMostOnce(reset) : call(reset)).getOffsetsList()
                .forEach(c -> out.put(c.getTopic() + "/" + c.getPartition(), c.getOffset()));
        return out;
    }

    /** Deletes the group and its committed offsets; refused while it has live members unless {@code force}. */
    public void delete(String group, boolean force) {
        callAtMostOnce(stub -> stub.deleteGroup(DeleteGroupRequest.newBuilder().setGroup(group).setForce(force).build()));
    }

    /**
     * What a group (share or classic) decides by: its dead-letter topic (empty: none), deliveries, lock and
     * back-off, and which of them are the nodes' defaults.
     */
    public record Settings(String group, String deadLetterTopic, int maxDeliveryAttempts, java.time.Duration lock,
                           java.time.Duration backoffInitial, double backoffMultiplier, java.time.Duration backoffMax,
                           List<String> defaults) {
    }

    /**
     * A change of a group's settings: each null field stays as it is; a dead-letter topic of "" removes it.
     * With {@code resetOthers} every setting the change does not name goes back to the nodes' default.
     */
    public record SettingsChange(String deadLetterTopic, Integer maxDeliveryAttempts, java.time.Duration lock,
                                 java.time.Duration backoffInitial, Double backoffMultiplier,
                                 java.time.Duration backoffMax, boolean resetOthers) {
    }

    public Settings settings(String group) {
        return toSettings(call(stub -> stub.describeGroupSettings(io.strata.api.v1.DescribeGroupSettingsRequest
                .newBuilder().setGroup(group).build())));
    }

    /** Changes the group's settings; answers them as now in force (on every node within a second). */
    public Settings alter(String group, SettingsChange change) {
        var r = io.strata.api.v1.AlterGroupSettingsRequest.newBuilder().setGroup(group)
                .setResetOthers(change.resetOthers());
        if (change.deadLetterTopic() != null) {
            r.setDeadLetterTopic(change.deadLetterTopic());
        }
        if (change.maxDeliveryAttempts() != null) {
            r.setMaxDeliveryAttempts(change.maxDeliveryAttempts());
        }
        if (change.lock() != null) {
            r.setLockMs(change.lock().toMillis());
        }
        if (change.backoffInitial() != null) {
            r.setBackoff(io.strata.api.v1.GroupBackoff.newBuilder().setInitialMs(change.backoffInitial().toMillis())
                    .setMultiplier(change.backoffMultiplier()).setMaxMs(change.backoffMax().toMillis()));
        }
        return toSettings(call(stub -> stub.alterGroupSettings(r.build())));
    }

    private static Settings toSettings(io.strata.api.v1.GroupSettings s) {
        return new Settings(s.getGroup(), s.getDeadLetterTopic(), s.getMaxDeliveryAttempts(),
                java.time.Duration.ofMillis(s.getLockMs()), java.time.Duration.ofMillis(s.getBackoff().getInitialMs()),
                s.getBackoff().getMultiplier(), java.time.Duration.ofMillis(s.getBackoff().getMaxMs()),
                List.copyOf(s.getDefaultsList()));
    }

    /** A share group: the partitions it took records of, the records not yet done, and those held now. */
    public record ShareListing(String group, int partitions, long lag, long acquired) {
    }

    /** Where a share group stands in one partition (see {@code ShareService.DescribeShareGroup}). */
    public record SharePartitionState(String topic, int partition, long startOffset, long windowEnd, long logEnd,
                                      long acquired, long available, long deadLettering, long lag,
                                      Duration oldestAcquiredAge) {
    }

    public List<ShareListing> listShare() {
        return router.onAnyNode(channel -> io.strata.api.v1.ShareServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                        .listShareGroups(io.strata.api.v1.ListShareGroupsRequest.getDefaultInstance()))
                .getGroupsList().stream().map(g -> new ShareListing(g.getGroup(), g.getPartitions(), g.getLag(),
                        g.getAcquired())).toList();
    }

    /**
     * Forgets a share group's state of every partition; answers how many partition states were removed. A member
     * that reads on afterwards starts it again from the log start. Refused (FAILED_PRECONDITION) while members
     * hold records or dead-letter copies are owed, unless {@code force}; NOT_FOUND for a group that took no
     * records. Sent once: a delete whose answer was lost may have happened.
     */
    public int deleteShare(String group, boolean force) {
        return router.onAnyNodeAtMostOnce(channel -> io.strata.api.v1.ShareServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                        .deleteShareGroup(io.strata.api.v1.DeleteShareGroupRequest.newBuilder().setGroup(group)
                                .setForce(force).build()))
                .getPartitions();
    }

    /** Fails with NOT_FOUND for a share group that took no records. */
    public List<SharePartitionState> describeShare(String group) {
        return router.onAnyNode(channel -> io.strata.api.v1.ShareServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                        .describeShareGroup(io.strata.api.v1.DescribeShareGroupRequest.newBuilder().setGroup(group)
                                .build()))
                .getPartitionsList().stream().map(p -> new SharePartitionState(p.getTopic(), p.getPartition(),
                        p.getStartOffset(), p.getWindowEnd(), p.getLogEnd(), p.getAcquired(), p.getAvailable(),
                        p.getDeadLettering(), p.getLag(), Duration.ofMillis(p.getOldestAcquiredAgeMs()))).toList();
    }
}
