package io.strata.server.group;

import io.strata.api.v1.AssignedPartition;
import io.strata.api.v1.Assignment;
import io.strata.api.v1.CommitOffsetsRequest;
import io.strata.api.v1.CommitOffsetsResponse;
import io.strata.api.v1.CommittedPartition;
import io.strata.api.v1.DeleteGroupRequest;
import io.strata.api.v1.DeleteGroupResponse;
import io.strata.api.v1.FetchCommittedRequest;
import io.strata.api.v1.FetchCommittedResponse;
import io.strata.api.v1.GroupDescription;
import io.strata.api.v1.GroupListing;
import io.strata.api.v1.GroupMemberDescription;
import io.strata.api.v1.GroupTopicPartition;
import io.strata.api.v1.JoinGroupRequest;
import io.strata.api.v1.JoinGroupResponse;
import io.strata.api.v1.ListGroupsResponse;
import io.strata.api.v1.PartitionCommit;
import io.strata.api.v1.PartitionLag;
import io.strata.api.v1.ResetOffsetsRequest;
import io.strata.api.v1.ResetOffsetsResponse;
import io.strata.api.v1.StartReason;
import io.strata.group.GroupCoordinator;
import io.strata.group.MemberAssignment;
import io.strata.group.ResetSpec;
import io.strata.metadata.group.OffsetReset;
import io.strata.metadata.group.TopicPartition;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** Consumer groups' protobuf messages to and from the {@link GroupCoordinator}. Thread-safe. */
public final class GroupHandler {
    private final GroupCoordinator coordinator;

    public GroupHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    public GroupCoordinator coordinator() {
        return coordinator;
    }

    public CompletableFuture<JoinGroupResponse> join(JoinGroupRequest r, String clientAddress) {
        if (r.getSessionTimeoutMs() < 0) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("a negative session timeout"));
        }
        OffsetReset reset = r.getOffsetReset() == io.strata.api.v1.OffsetResetPolicy.OFFSET_RESET_LATEST
                ? OffsetReset.LATEST : OffsetReset.EARLIEST;
        return coordinator.join(r.getGroup(), r.getClientId(), clientAddress, r.getTopicsList(),
                        Duration.ofMillis(r.getSessionTimeoutMs()), reset)
                .thenApply(m -> JoinGroupResponse.newBuilder().setMemberId(m.memberId())
                        .setSessionTimeoutMs((int) m.sessionTimeoutMs())
                        .setHeartbeatIntervalMs((int) coordinator.heartbeatInterval(m).toMillis()).build());
    }

    public static Assignment toProto(MemberAssignment a) {
        Assignment.Builder b = Assignment.newBuilder().setGeneration(a.generation()).setWaiting(a.waiting());
        for (io.strata.group.AssignedPartition p : a.owned()) {
            b.addOwned(AssignedPartition.newBuilder().setTopic(p.partition().topic())
                    .setPartition(p.partition().partition()).setEpoch(p.epoch()).setStartOffset(p.startOffset())
                    .setReason(switch (p.reason()) {
                        case COMMITTED -> StartReason.START_COMMITTED;
                        case EARLIEST -> StartReason.START_EARLIEST;
                        case LATEST -> StartReason.START_LATEST;
                        case COMMITTED_BELOW_LOG_START -> StartReason.START_COMMITTED_BELOW_LOG_START;
                    }));
        }
        a.revoking().forEach(p -> b.addRevoking(toProto(p)));
        return b.build();
    }

    private static GroupTopicPartition toProto(TopicPartition p) {
        return GroupTopicPartition.newBuilder().setTopic(p.topic()).setPartition(p.partition()).build();
    }

    private static TopicPartition fromProto(String topic, int partition) {
        return new TopicPartition(topic, partition); // IllegalArgumentException (INVALID_ARGUMENT) when malformed
    }

    public CompletableFuture<CommitOffsetsResponse> commit(CommitOffsetsRequest r) {
        List<GroupCoordinator.CommitRequest> offsets;
        Set<TopicPartition> release = new HashSet<>();
        try {
            offsets = r.getOffsetsList().stream().map(c -> new GroupCoordinator.CommitRequest(
                    fromProto(c.getTopic(), c.getPartition()), c.getOffset(), c.getMetadata(), c.getEpoch())).toList();
            r.getReleaseList().forEach(p -> release.add(fromProto(p.getTopic(), p.getPartition())));
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (offsets.isEmpty() && release.isEmpty()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("a commit names offsets or releases"));
        }
        return coordinator.commit(r.getGroup(), r.getMemberId(), offsets, release)
                .thenApply(x -> CommitOffsetsResponse.getDefaultInstance());
    }

    public CompletableFuture<FetchCommittedResponse> committed(FetchCommittedRequest r) {
        return coordinator.committed(r.getGroup(), r.hasTopic() ? Optional.of(r.getTopic()) : Optional.empty())
                .thenApply(all -> {
                    FetchCommittedResponse.Builder b = FetchCommittedResponse.newBuilder();
                    all.values().forEach(c -> b.addOffsets(CommittedPartition.newBuilder()
                            .setTopic(c.partition().topic()).setPartition(c.partition().partition())
                            .setOffset(c.offset()).setMetadata(c.metadata()).setCommittedAtMs(c.committedAtMs())
                            .setMemberId(c.memberId())));
                    return b.build();
                });
    }

    public CompletableFuture<GroupDescription> describe(String group) {
        return coordinator.describe(group).thenApply(d -> {
            GroupDescription.Builder b = GroupDescription.newBuilder().setGroup(d.group())
                    .setState(d.state().name()).setGeneration(d.generation());
            for (var m : d.members()) {
                GroupMemberDescription.Builder mb = GroupMemberDescription.newBuilder().setMemberId(m.memberId())
                        .setClientId(m.clientId()).setClientAddress(m.clientAddress()).addAllTopics(m.topics())
                        .setSessionTimeoutMs((int) m.sessionTimeoutMs());
                m.owned().forEach(p -> mb.addOwned(toProto(p)));
                b.addMembers(mb);
            }
            for (var p : d.partitions()) {
                b.addPartitions(PartitionLag.newBuilder().setTopic(p.partition().topic())
                        .setPartition(p.partition().partition()).setOwner(p.owner()).setCommitted(p.committed())
                        .setLogStart(p.logStart()).setEnd(p.end()).setLag(p.lag()));
            }
            return b.build();
        });
    }

    public CompletableFuture<ListGroupsResponse> list() {
        return coordinator.list().thenApply(all -> {
            ListGroupsResponse.Builder b = ListGroupsResponse.newBuilder();
            all.forEach(l -> b.addGroups(GroupListing.newBuilder().setGroup(l.group()).setState(l.state().name())
                    .setMembers(l.members())));
            return b.build();
        });
    }

    public CompletableFuture<ResetOffsetsResponse> reset(ResetOffsetsRequest r) {
        ResetSpec spec = switch (r.getToCase()) {
            case EARLIEST -> new ResetSpec.Earliest();
            case LATEST -> new ResetSpec.Latest();
            case OFFSET -> new ResetSpec.ToOffset(r.getOffset());
            case TIMESTAMP_MS -> new ResetSpec.ToTimestamp(r.getTimestampMs());
            case SHIFT_BY -> new ResetSpec.ShiftBy(r.getShiftBy());
            case TO_NOT_SET -> null;
        };
        if (spec == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(
                    "say where to reset to: earliest, latest, an offset, a timestamp or a shift"));
        }
        return coordinator.reset(r.getGroup(), spec, r.hasTopic() ? Optional.of(r.getTopic()) : Optional.empty(),
                        r.hasPartition() ? OptionalInt.of(r.getPartition()) : OptionalInt.empty(), r.getForce())
                .thenApply(offsets -> {
                    ResetOffsetsResponse.Builder b = ResetOffsetsResponse.newBuilder();
                    offsets.forEach((p, o) -> b.addOffsets(PartitionCommit.newBuilder().setTopic(p.topic())
                            .setPartition(p.partition()).setOffset(o)));
                    return b.build();
                });
    }

    public CompletableFuture<DeleteGroupResponse> delete(DeleteGroupRequest r) {
        return coordinator.delete(r.getGroup(), r.getForce()).thenApply(x -> DeleteGroupResponse.getDefaultInstance());
    }
}
