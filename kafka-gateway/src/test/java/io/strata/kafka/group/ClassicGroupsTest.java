package io.strata.kafka.group;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.group.GroupCoordinator;
import io.strata.metadata.group.TopicPartition;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's classic group protocol over the embedded metadata store: the join barrier, generations, the leader's
 * assignment, and the errors Kafka's clients rely on to stop a member that lost a partition from committing it.
 */
class ClassicGroupsTest {
    @TempDir
    Path dir;
    private GroupFixture fixture;
    private GroupCoordinator coordinator;
    private ClassicGroups groups;

    @BeforeEach
    void open() {
        fixture = new GroupFixture(dir);
        coordinator = fixture.coordinator;
        groups = new ClassicGroups(coordinator, fixture.timer);
    }

    @AfterEach
    void close() {
        groups.close();
        fixture.close();
    }

    @Test
    void aMemberThatLostItsGenerationOrPartitionCannotCommit() throws Exception {
        String a = newMemberId();
        JoinGroupResponseData joinedA = join(a).get(10, TimeUnit.SECONDS);
        assertThat(joinedA.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(joinedA.generationId()).isEqualTo(1);
        assertThat(joinedA.leader()).isEqualTo(a);
        SyncGroupResponseData syncedA = sync(a, 1, Map.of(a, List.of(0, 1, 2, 3))).get(10, TimeUnit.SECONDS);
        assertThat(partitions(syncedA.assignment())).containsExactly(0, 1, 2, 3);
        assertThat(commit(a, 1, 0, 5)).isEqualTo(Errors.NONE);

        // A second member: a rebalance. The first may still commit what it holds until it rejoins.
        String b = newMemberId();
        CompletableFuture<JoinGroupResponseData> joiningB = join(b);
        assertThat(joiningB).isNotDone();
        assertThat(groups.heartbeat("g", a, 1).get()).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
        assertThat(commit(a, 1, 1, 7)).isEqualTo(Errors.NONE);

        JoinGroupResponseData rejoinedA = join(a).get(10, TimeUnit.SECONDS);
        JoinGroupResponseData joinedB = joiningB.get(10, TimeUnit.SECONDS);
        assertThat(rejoinedA.generationId()).isEqualTo(2);
        assertThat(joinedB.generationId()).isEqualTo(2);
        assertThat(rejoinedA.members()).hasSize(2); // the leader sees every member's subscription
        assertThat(joinedB.members()).isEmpty();

        assertThat(commit(a, 1, 0, 9)).as("an old generation").isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(commit(b, 2, 2, 9)).as("before the assignment is known").isEqualTo(Errors.REBALANCE_IN_PROGRESS);
        assertThat(commit("nobody-000000000000", 2, 2, 9)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);

        CompletableFuture<SyncGroupResponseData> syncingB = sync(b, 2, Map.of());
        SyncGroupResponseData syncedA2 = sync(a, 2, Map.of(a, List.of(0, 1), b, List.of(2, 3))).get(10, TimeUnit.SECONDS);
        assertThat(partitions(syncedA2.assignment())).containsExactly(0, 1);
        assertThat(partitions(syncingB.get(10, TimeUnit.SECONDS).assignment())).containsExactly(2, 3);

        // Each holds the partition leases of its assignment: a commit for another's partition is refused.
        assertThat(commit(b, 2, 2, 11)).isEqualTo(Errors.NONE);
        assertThat(commit(b, 2, 0, 11)).as("a partition of the other member").isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(commit(a, 2, 0, 12)).isEqualTo(Errors.NONE);
        var committed = coordinator.committed("g", java.util.Optional.empty()).get(10, TimeUnit.SECONDS);
        assertThat(committed.get(new TopicPartition("t", 0)).offset()).isEqualTo(12);
        assertThat(committed.get(new TopicPartition("t", 1)).offset()).isEqualTo(7);
        assertThat(committed.get(new TopicPartition("t", 2)).offset()).isEqualTo(11);

        // The group is a Strata group: its members and their partitions, as describe shows them.
        var description = coordinator.describe("g").get(10, TimeUnit.SECONDS);
        assertThat(description.generation()).isEqualTo(2);
        assertThat(description.members()).hasSize(2);
        assertThat(description.state()).isEqualTo(io.strata.group.GroupDescription.State.STABLE);

        // A member leaving starts a rebalance for the others; its partitions are released.
        assertThat(groups.leave("g", List.of(b)).get(10, TimeUnit.SECONDS)).containsEntry(b, Errors.NONE);
        assertThat(groups.heartbeat("g", a, 2).get()).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
        assertThat(coordinator.describe("g").get(10, TimeUnit.SECONDS).members()).hasSize(1);
    }

    @Test
    void aLeadersAssignmentBecomesLeasesOnlyForPartitionsThatExist() throws Exception {
        String a = newMemberId();
        assertThat(join(a).get(10, TimeUnit.SECONDS).leader()).isEqualTo(a);
        SyncGroupRequestData r = new SyncGroupRequestData().setGroupId("g").setMemberId(a).setGenerationId(1)
                .setProtocolType("consumer").setProtocolName("range");
        // The assignment is the client's to make: a topic nobody created and partitions past the topic's end too.
        r.assignments().add(new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId(a).setAssignment(bytes(
                ConsumerProtocol.serializeAssignment(new ConsumerPartitionAssignor.Assignment(List.of(
                        new org.apache.kafka.common.TopicPartition("t", 0), new org.apache.kafka.common.TopicPartition("t", 1),
                        new org.apache.kafka.common.TopicPartition("t", 99),
                        new org.apache.kafka.common.TopicPartition("ghost", 0)))))));
        assertThat(groups.sync(r).get(10, TimeUnit.SECONDS).errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(commit(a, 1, 1, 5)).isEqualTo(Errors.NONE);
        assertThat(fixture.metadata.groups().read("g").get(10, TimeUnit.SECONDS).owners().keySet())
                .containsExactlyInAnyOrder(new TopicPartition("t", 0), new TopicPartition("t", 1));
    }

    @Test
    void aMemberWithoutGroupMayCommitOnlyWhileTheGroupHasNoMembers() throws Exception {
        var free = List.of(new GroupCoordinator.CommitRequest(new TopicPartition("t", 0), 3, ""));
        groups.membership().commitWithoutMembers("solo", free).get(10, TimeUnit.SECONDS);
        assertThat(coordinator.committed("solo", java.util.Optional.empty()).get(10, TimeUnit.SECONDS)
                .get(new TopicPartition("t", 0)).offset()).isEqualTo(3);

        String a = newMemberId("solo");
        join("solo", a).get(10, TimeUnit.SECONDS);
        assertThat(groups.membership().commitWithoutMembers("solo", free).handle((v, e) -> GroupErrors.forCommit(e))
                .get(10, TimeUnit.SECONDS)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void offsetsOfTopicsNoLiveMemberReadsCanBeDeleted() throws Exception {
        var p0 = new TopicPartition("t", 0);
        groups.membership().commitWithoutMembers("g", List.of(new GroupCoordinator.CommitRequest(p0, 4, "")))
                .get(10, TimeUnit.SECONDS);
        String a = newMemberId();
        join(a).get(10, TimeUnit.SECONDS);
        assertThat(groups.membership().deleteOffsets("g", List.of(p0)).get(10, TimeUnit.SECONDS))
                .as("a live member reads t").containsExactly(p0);
        assertThat(coordinator.committed("g", java.util.Optional.empty()).get(10, TimeUnit.SECONDS)).containsKey(p0);

        groups.leave("g", List.of(a)).get(10, TimeUnit.SECONDS);
        assertThat(groups.membership().deleteOffsets("g", List.of(p0)).get(10, TimeUnit.SECONDS)).isEmpty();
        assertThat(coordinator.committed("g", java.util.Optional.empty()).get(10, TimeUnit.SECONDS)).doesNotContainKey(p0);
        assertThat(groups.membership().deleteOffsets("nobody", List.of(p0)).handle((v, e) -> GroupErrors.forGroup(e))
                .get(10, TimeUnit.SECONDS)).isEqualTo(Errors.GROUP_ID_NOT_FOUND);
    }

    private String newMemberId() throws Exception {
        return newMemberId("g");
    }

    /** A first join (version 9): MEMBER_ID_REQUIRED with the id to join with. */
    private String newMemberId(String group) throws Exception {
        JoinGroupResponseData r = join(group, "").get(10, TimeUnit.SECONDS);
        assertThat(r.errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
        return r.memberId();
    }

    private CompletableFuture<JoinGroupResponseData> join(String memberId) {
        return join("g", memberId);
    }

    private CompletableFuture<JoinGroupResponseData> join(String group, String memberId) {
        JoinGroupRequestData r = new JoinGroupRequestData().setGroupId(group).setMemberId(memberId)
                .setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(30_000).setProtocolType("consumer");
        r.protocols().add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(bytes(
                ConsumerProtocol.serializeSubscription(new ConsumerPartitionAssignor.Subscription(List.of("t"))))));
        return groups.join(r, (short) 9, "app", "/127.0.0.1");
    }

    private CompletableFuture<SyncGroupResponseData> sync(String memberId, int generation,
                                                          Map<String, List<Integer>> assignment) {
        SyncGroupRequestData r = new SyncGroupRequestData().setGroupId("g").setMemberId(memberId)
                .setGenerationId(generation).setProtocolType("consumer").setProtocolName("range");
        assignment.forEach((m, ps) -> r.assignments().add(new SyncGroupRequestData.SyncGroupRequestAssignment()
                .setMemberId(m).setAssignment(bytes(ConsumerProtocol.serializeAssignment(new ConsumerPartitionAssignor
                        .Assignment(ps.stream().map(p -> new org.apache.kafka.common.TopicPartition("t", p)).toList()))))));
        return groups.sync(r);
    }

    private Errors commit(String memberId, int generation, int partition, long offset) throws Exception {
        Errors allowed = groups.mayCommit("g", memberId, generation);
        if (allowed != Errors.NONE) {
            return allowed;
        }
        return groups.commit("g", memberId, List.of(new GroupCoordinator.CommitRequest(new TopicPartition("t", partition),
                offset, ""))).get(10, TimeUnit.SECONDS).get(new TopicPartition("t", partition));
    }

    private static List<Integer> partitions(byte[] assignment) {
        return ConsumerProtocol.deserializeAssignment(ByteBuffer.wrap(assignment)).partitions().stream()
                .map(org.apache.kafka.common.TopicPartition::partition).sorted().toList();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
