package io.strata.kafka.group;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.group.GroupCoordinator;
import io.strata.kafka.cluster.TopicIds;
import io.strata.metadata.group.TopicPartition;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's consumer protocol (KIP-848) over the embedded metadata store, heartbeat by heartbeat as Kafka's client
 * sends them: epochs that rise with each new assignment, a revoked partition released only once its owner says
 * it let go, commits fenced by ownership with the errors Kafka's client acts on.
 */
class ConsumerGroupsTest {
    private static final String A = "AAAAAAAAAAAAAAAAAAAAAA";
    private static final String B = "BBBBBBBBBBBBBBBBBBBBBB";

    @TempDir
    Path dir;
    private GroupFixture fixture;
    private GroupCoordinator coordinator;
    private ConsumerGroups groups;
    private ClassicGroups classic;
    private Uuid topicId;

    @BeforeEach
    void open() {
        fixture = new GroupFixture(dir);
        coordinator = fixture.coordinator;
        groups = new ConsumerGroups(coordinator, fixture.topics, new TopicIds(fixture.metadata), fixture.timer);
        classic = new ClassicGroups(coordinator, fixture.timer);
        topicId = TopicIds.uuidOf(fixture.topic);
    }

    @AfterEach
    void close() {
        groups.close();
        classic.close();
        fixture.close();
    }

    @Test
    void aRevokedPartitionMovesOnlyOnceItsOwnerLetItGoAndCommitsAreFencedByOwnership() throws Exception {
        ConsumerGroupHeartbeatResponseData joinedA = beat(A, 0, List.of("t"), null);
        assertThat(joinedA.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(joinedA.memberId()).as("the id Kafka's client chose").isEqualTo(A);
        assertThat(joinedA.memberEpoch()).isEqualTo(1);
        assertThat(joinedA.assignment()).as("a joining member is always told its assignment").isNotNull();
        ConsumerGroupHeartbeatResponseData all = beatUntil(A, List.of(), r -> partitions(r).size() == 4);
        int epochA = all.memberEpoch();
        assertThat(epochA).as("a new assignment, a new epoch").isGreaterThan(1);
        assertThat(commit(A, epochA, 0, 10)).isEqualTo(Errors.NONE);
        assertThat(beat(A, epochA, null, List.of(0, 1, 2, 3)).assignment()).as("unchanged: not sent again").isNull();

        // B joins: the target gives it two of A's partitions, which A is told to give up under a new epoch.
        assertThat(beat(B, 0, List.of("t"), null).errorCode()).isEqualTo(Errors.NONE.code());
        ConsumerGroupHeartbeatResponseData shrunk = beatUntil(A, List.of(0, 1, 2, 3), r -> partitions(r).size() == 2);
        assertThat(shrunk.memberEpoch()).isEqualTo(epochA + 1);
        assertThat(shrunk.heartbeatIntervalMs()).as("a member whose assignment moves beats soon")
                .isLessThanOrEqualTo(ConsumerGroups.UNSETTLED_INTERVAL_MS);
        Set<Integer> kept = partitions(shrunk);
        Set<Integer> revoked = new TreeSet<>(Set.of(0, 1, 2, 3));
        revoked.removeAll(kept);
        int moving = revoked.iterator().next();

        // Until A says it let go, the partitions stay A's: B waits, and A may still commit them. A heartbeat that
        // reports nothing means "unchanged" (its client may still be taking on what it was told before).
        assertThat(beat(A, epochA + 1, null, null).errorCode()).isEqualTo(Errors.NONE.code());
        ConsumerGroupHeartbeatResponseData waiting = beat(B, 1, null, List.of());
        assertThat(waiting.errorCode()).isEqualTo(Errors.NONE.code());
        Thread.sleep(500);
        assertThat(partitions(beat(B, 1, null, List.of()))).isEmpty();
        assertThat(commit(B, 1, moving, 20)).as("not B's yet").isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(commit(A, epochA + 1, moving, 20)).as("A commits what it gives up").isEqualTo(Errors.NONE);

        beat(A, epochA + 1, null, List.copyOf(kept)); // A let go
        ConsumerGroupHeartbeatResponseData grown = beatUntil(B, List.of(), r -> partitions(r).equals(revoked));
        int epochB = grown.memberEpoch();
        assertThat(commit(B, epochB, moving, 25)).isEqualTo(Errors.NONE);
        assertThat(commit(A, epochA + 1, moving, 30)).as("no longer A's").isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(commit(A, epochA, moving, 30)).as("from before A was told: it retries after its next heartbeat")
                .isEqualTo(Errors.STALE_MEMBER_EPOCH);
        assertThat(commit(A, epochA + 5, kept.iterator().next(), 30)).isEqualTo(Errors.FENCED_MEMBER_EPOCH);
        assertThat(coordinator.committed("g", java.util.Optional.empty()).get(10, TimeUnit.SECONDS)
                .get(new TopicPartition("t", moving)).offset()).isEqualTo(25);

        // The group is a Strata group: both members, each partition owned once.
        var description = coordinator.describe("g").get(10, TimeUnit.SECONDS);
        assertThat(description.members()).hasSize(2);
        assertThat(description.members().stream().mapToInt(m -> m.owned().size()).sum()).isEqualTo(4);

        // A leaves (epoch -1): B gets everything.
        assertThat(beat(A, -1, null, null).memberEpoch()).isEqualTo(-1);
        beatUntil(B, List.copyOf(revoked), r -> partitions(r).size() == 4);
    }

    @Test
    void aClientAheadOfItsCoordinatorIsFencedAndJoinsAgainUnderItsId() throws Exception {
        beat(A, 0, List.of("t"), null);
        int epoch = beatUntil(A, List.of(), r -> partitions(r).size() == 4).memberEpoch();
        ConsumerGroupHeartbeatResponseData fenced = beat(A, epoch + 3, null, null);
        assertThat(fenced.errorCode()).isEqualTo(Errors.FENCED_MEMBER_EPOCH.code());
        assertThat(coordinator.describe("g").get(10, TimeUnit.SECONDS).members()).as("its partitions are freed")
                .isEmpty();
        ConsumerGroupHeartbeatResponseData again = beat(A, 0, List.of("t"), null);
        assertThat(again.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(again.memberId()).isEqualTo(A);
        beatUntil(A, List.of(), r -> partitions(r).size() == 4);
        assertThat(beat(B, 7, null, null).errorCode()).as("never joined").isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());
    }

    @Test
    void aMemberTakenOverByAnotherCoordinatorKeepsItsPartitionsAndItsEpoch() throws Exception {
        beat(A, 0, List.of("t"), null);
        ConsumerGroupHeartbeatResponseData all = beatUntil(A, List.of(), r -> partitions(r).size() == 4);
        int epoch = all.memberEpoch();
        try (ConsumerGroups next = new ConsumerGroups(coordinator, fixture.topics, new TopicIds(fixture.metadata),
                fixture.timer)) {
            // Its first heartbeat there says nothing of what it holds: it is asked for its whole state.
            ConsumerGroupHeartbeatResponseData asked = next.heartbeat(request(A, epoch, null, null), "c", "h")
                    .get(10, TimeUnit.SECONDS);
            assertThat(asked.errorCode()).isEqualTo(Errors.COORDINATOR_LOAD_IN_PROGRESS.code());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            ConsumerGroupHeartbeatResponseData r;
            do {
                r = next.heartbeat(request(A, epoch, null, List.of(0, 1, 2, 3)), "c", "h").get(10, TimeUnit.SECONDS);
                assertThat(r.errorCode()).isEqualTo(Errors.NONE.code());
                assertThat(r.assignment() == null || partitions(r).size() == 4)
                        .as("never told it owns less than it does: %s", r).isTrue();
                Thread.sleep(50);
            } while (r.assignment() == null && System.nanoTime() < deadline);
            assertThat(r.memberEpoch()).as("the client's epoch is taken up").isEqualTo(epoch);
            assertThat(partitions(r)).containsExactly(0, 1, 2, 3);
            Map<TopicPartition, Errors> committed = next.commit("g", A, epoch, List.of(new GroupCoordinator
                    .CommitRequest(new TopicPartition("t", 1), 40, ""))).get(10, TimeUnit.SECONDS);
            assertThat(committed).containsEntry(new TopicPartition("t", 1), Errors.NONE);
        }
    }

    @Test
    void requestsStrataCannotServeGetPreciseErrors() throws Exception {
        ConsumerGroupHeartbeatRequestData regex = request(A, 0, null, null).setSubscribedTopicRegex("t.*");
        assertThat(groups.heartbeat(regex, "c", "h").get(10, TimeUnit.SECONDS).errorCode())
                .isEqualTo(Errors.INVALID_REQUEST.code());
        ConsumerGroupHeartbeatRequestData range = request(A, 0, List.of("t"), null).setServerAssignor("range");
        assertThat(groups.heartbeat(range, "c", "h").get(10, TimeUnit.SECONDS).errorCode())
                .isEqualTo(Errors.UNSUPPORTED_ASSIGNOR.code());
        assertThat(beat(A, 0, List.of(), null).errorCode()).as("no topics").isEqualTo(Errors.INVALID_REQUEST.code());
        assertThat(beat("", 3, null, null).errorCode()).as("no id").isEqualTo(Errors.INVALID_REQUEST.code());

        // A group of classic Kafka members is no group of this protocol.
        var join = new org.apache.kafka.common.message.JoinGroupRequestData().setGroupId("g").setMemberId("")
                .setProtocolType("consumer").setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000);
        join.protocols().add(new org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol()
                .setName("range").setMetadata(org.apache.kafka.common.utils.Utils.toArray(
                        org.apache.kafka.clients.consumer.internals.ConsumerProtocol.serializeSubscription(
                                new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription(List.of("t"))))));
        classic.join(join, (short) 3, "classic", "h"); // its member is in the store before its join completes
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (coordinator.describe("g").handle((d, e) -> e == null ? d.members().size() : 0).get(10, TimeUnit.SECONDS)
                == 0 && System.nanoTime() < deadline) {
            Thread.sleep(50); // the group is not there until the classic member is
        }
        ConsumerGroupHeartbeatResponseData refused = beat(A, 0, List.of("t"), null);
        assertThat(refused.errorCode()).isEqualTo(Errors.GROUP_ID_NOT_FOUND.code());
        assertThat(refused.errorMessage()).contains("classic");
    }

    // ---- the client's side

    private ConsumerGroupHeartbeatRequestData request(String member, int epoch, List<String> topics, List<Integer> owned) {
        ConsumerGroupHeartbeatRequestData r = new ConsumerGroupHeartbeatRequestData().setGroupId("g")
                .setMemberId(member).setMemberEpoch(epoch).setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(topics);
        if (owned != null) {
            r.setTopicPartitions(List.of(new ConsumerGroupHeartbeatRequestData.TopicPartitions().setTopicId(topicId)
                    .setPartitions(owned)));
        } else {
            r.setTopicPartitions(null);
        }
        return r;
    }

    private ConsumerGroupHeartbeatResponseData beat(String member, int epoch, List<String> topics, List<Integer> owned)
            throws Exception {
        return groups.heartbeat(request(member, epoch, topics, owned), "client-" + member, "/127.0.0.1")
                .get(10, TimeUnit.SECONDS);
    }

    /** Heartbeats as the member's client would (reporting what it owns) until an answer satisfies {@code done}. */
    private ConsumerGroupHeartbeatResponseData beatUntil(String member, List<Integer> owned,
                                                         Predicate<ConsumerGroupHeartbeatResponseData> done)
            throws Exception {
        int epoch = 1; // at most the coordinator's: a client behind it is told its assignment again
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<Integer> reporting = owned;
        while (System.nanoTime() < deadline) {
            ConsumerGroupHeartbeatResponseData r = beat(member, epoch, null, reporting);
            assertThat(r.errorCode()).as("%s", r).isEqualTo(Errors.NONE.code());
            epoch = r.memberEpoch();
            if (r.assignment() != null) {
                reporting = List.copyOf(partitions(r));
                if (done.test(r)) {
                    return r;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("member " + member + " never got the assignment asked for");
    }

    private Set<Integer> partitions(ConsumerGroupHeartbeatResponseData r) {
        Set<Integer> out = new TreeSet<>();
        if (r.assignment() != null) {
            r.assignment().topicPartitions().forEach(t -> {
                assertThat(t.topicId()).isEqualTo(topicId);
                out.addAll(t.partitions());
            });
        }
        return out;
    }

    private Errors commit(String member, int epoch, int partition, long offset) throws Exception {
        Map<TopicPartition, Errors> r = groups.commit("g", member, epoch, List.of(new GroupCoordinator.CommitRequest(
                new TopicPartition("t", partition), offset, ""))).get(10, TimeUnit.SECONDS);
        return r.get(new TopicPartition("t", partition));
    }
}
