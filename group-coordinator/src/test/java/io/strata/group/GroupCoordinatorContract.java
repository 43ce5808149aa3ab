package io.strata.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.metadata.BlockChunk;
import io.strata.metadata.BlockCommit;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.PartitionOffsets;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicCache;
import io.strata.metadata.TopicConfig;
import io.strata.metadata.group.GroupActiveException;
import io.strata.metadata.group.GroupMember;
import io.strata.metadata.group.OffsetReset;
import io.strata.metadata.group.TopicPartition;
import io.strata.metadata.group.UnknownGroupException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator over each metadata store (the embedded one and a real etcd): assignment, hand-over, fencing,
 * start positions, administration, and a group of a hundred members over a thousand partitions.
 */
abstract class GroupCoordinatorContract {
    private MetadataStore metadata;
    private GroupCoordinator coordinator;
    private final List<AutoCloseable> streams = new ArrayList<>();

    /** What one member's stream told it, newest last; a releasing one gives up what it is asked to, as a client does. */
    final class Recorder implements AssignmentSink {
        final List<MemberAssignment> seen = new CopyOnWriteArrayList<>();
        volatile Throwable ended;
        volatile String releasingFor;

        @Override
        public void onAssignment(MemberAssignment assignment) {
            seen.add(assignment);
            if (releasingFor != null && !assignment.revoking().isEmpty()) {
                coordinator.commit("g", releasingFor, List.of(), Set.copyOf(assignment.revoking()));
            }
        }

        @Override
        public void onEnd(Throwable cause) {
            ended = cause;
        }

        MemberAssignment last() {
            return seen.isEmpty() ? new MemberAssignment(0, List.of(), List.of(), 0) : seen.get(seen.size() - 1);
        }

        Set<TopicPartition> owned() {
            Set<TopicPartition> out = new HashSet<>();
            last().owned().forEach(a -> out.add(a.partition()));
            return out;
        }
    }

    /** A store over fresh, empty metadata. */
    protected abstract MetadataStore newStore();

    @BeforeEach
    void open() {
        metadata = newStore();
        coordinator = newCoordinator();
    }

    /** A coordinator as a node runs it; host leases of 2 s. */
    private GroupCoordinator newCoordinator() {
        return new GroupCoordinator(metadata, new TopicCache(metadata, Clock.systemUTC(), Duration.ofSeconds(1)),
                (topic, partition, ts) -> java.util.concurrent.CompletableFuture.completedFuture(50L),
                new GroupSettings(Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(10),
                        Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(2), 1_000));
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable s : streams) {
            s.close();
        }
        coordinator.close();
        metadata.close();
    }

    /** A topic whose every partition holds {@code records} records (offsets 0..records-1). */
    private Topic topic(String name, int partitions, int records) {
        Topic t = metadata.createTopic(new TopicConfig(name, partitions, -1, -1)).join();
        List<BlockChunk> chunks = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            chunks.add(new BlockChunk(t.partition(p), records, 8 + p * 100L, 100, 300, 1_000, 2_000, 0xC0FFEE));
        }
        for (int from = 0; from < chunks.size(); from += 100) { // blocks of at most 100 partitions, as nodes write
            metadata.commitBlock(new BlockCommit("wal/" + name + "-" + from, 8 + partitions * 100L + 100,
                    chunks.subList(from, Math.min(chunks.size(), from + 100)))).join();
        }
        return t;
    }

    private GroupMember join(String group, Duration session, OffsetReset reset) {
        return coordinator.join(group, "app", "127.0.0.1:1", List.of("t"), session, reset).join();
    }

    private Recorder sync(String group, GroupMember m) {
        Recorder r = new Recorder();
        streams.add(coordinator.sync(group, m.memberId(), r).join());
        return r;
    }

    /** A member that releases what it is asked to at once (commits being none of this test's business). */
    private Recorder syncReleasing(String group, GroupMember m) {
        Recorder r = new Recorder();
        r.releasingFor = m.memberId();
        streams.add(coordinator.sync(group, m.memberId(), r).join());
        return r;
    }

    private static void await(Supplier<Boolean> condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    private static Throwable cause(Runnable r) {
        try {
            r.run();
            throw new AssertionError("expected a failure");
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    private static TopicPartition tp(int p) {
        return new TopicPartition("t", p);
    }

    @Test
    void threeMembersOverTwelvePartitionsOwnFourEachAndNoneTwice() throws Exception {
        topic("t", 12, 10);
        List<Recorder> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            members.add(syncReleasing("g", join("g", Duration.ofSeconds(10), OffsetReset.EARLIEST)));
        }
        await(() -> members.stream().allMatch(r -> r.owned().size() == 4), "each member owns four partitions");
        Set<TopicPartition> all = new HashSet<>();
        members.forEach(r -> all.addAll(r.owned()));
        assertThat(all).hasSize(12);
        assertThat(members.get(0).last().owned()).allSatisfy(a -> {
            assertThat(a.startOffset()).isZero();
            assertThat(a.reason()).isEqualTo(StartReason.EARLIEST);
        });
        assertThat(coordinator.describe("g").join().state()).isEqualTo(GroupDescription.State.STABLE);
    }

    @Test
    void partitionsAddedToATopicAreAssignedToItsMembersWithoutAJoin() throws Exception {
        topic("t", 2, 10);
        List<Recorder> members = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            members.add(syncReleasing("g", join("g", Duration.ofSeconds(10), OffsetReset.EARLIEST)));
        }
        await(() -> members.stream().allMatch(r -> r.owned().size() == 1), "each member owns one partition");
        metadata.alterTopic("t", io.strata.metadata.TopicChange.partitions(6)).join();
        await(() -> members.stream().allMatch(r -> r.owned().size() == 3), "each member owns three partitions");
        Set<TopicPartition> all = new HashSet<>();
        members.forEach(r -> all.addAll(r.owned()));
        assertThat(all).containsExactlyInAnyOrder(tp(0), tp(1), tp(2), tp(3), tp(4), tp(5));
        assertThat(members.stream().flatMap(r -> r.last().owned().stream())
                .filter(a -> a.partition().partition() >= 2)).allSatisfy(a -> assertThat(a.startOffset()).isZero());
    }

    @Test
    void aNewMemberGetsAPartitionOnlyOnceItsOwnerCommittedAndReleasedIt() throws Exception {
        topic("t", 6, 100);
        GroupMember a = join("g", Duration.ofSeconds(10), OffsetReset.EARLIEST);
        Recorder ra = sync("g", a);
        await(() -> ra.owned().size() == 6, "the only member owns every partition");
        Recorder rb = sync("g", join("g", Duration.ofSeconds(10), OffsetReset.EARLIEST));
        await(() -> ra.last().revoking().size() == 3, "the first member is asked to give three up");
        // The new member hears of its assignment on its own stream, perhaps a moment after the first one.
        await(() -> rb.last().waiting() == 3, "the new member waits for three");
        assertThat(rb.owned()).as("nothing moves before it is released").isEmpty();
        List<GroupCoordinator.CommitRequest> offsets = ra.last().revoking().stream()
                .map(p -> new GroupCoordinator.CommitRequest(p, 40 + p.partition(), "done")).toList();
        coordinator.commit("g", a.memberId(), offsets, Set.copyOf(ra.last().revoking())).join();
        await(() -> rb.owned().size() == 3, "the new member owns what was released");
        assertThat(rb.last().owned()).allSatisfy(s -> {
            assertThat(s.reason()).isEqualTo(StartReason.COMMITTED);
            assertThat(s.startOffset()).isEqualTo(40 + s.partition().partition());
        });
        await(() -> ra.owned().size() == 3 && ra.last().revoking().isEmpty(), "the first member keeps three");
    }

    @Test
    void aSilentMembersPartitionsMoveWhenItsSessionEnds() throws Exception {
        topic("t", 4, 10);
        GroupMember silent = join("g", Duration.ofSeconds(2), OffsetReset.EARLIEST);
        Recorder rs = syncReleasing("g", silent);
        GroupMember alive = join("g", Duration.ofSeconds(30), OffsetReset.LATEST);
        Recorder ra = syncReleasing("g", alive);
        await(() -> rs.owned().size() == 2 && ra.owned().size() == 2, "two each");
        long before = System.nanoTime();
        await(() -> ra.owned().size() == 4, "the survivor owns all four");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before)).isGreaterThan(500);
        assertThat(rs.ended).isInstanceOf(UnknownMemberException.class);
        assertThat(ra.last().owned()).filteredOn(s -> s.reason() == StartReason.LATEST).hasSize(4)
                .allSatisfy(s -> assertThat(s.startOffset()).isEqualTo(10));
        assertThat(cause(() -> coordinator.heartbeat("g", silent.memberId()).join()))
                .isInstanceOf(UnknownMemberException.class);
    }

    @Test
    void aSessionMovesToTheNodeItsHeartbeatsReachWhenItsNodeStopsAndKeepsItsPartitions() throws Exception {
        topic("t", 4, 10);
        GroupCoordinator first = newCoordinator();
        GroupMember m;
        try {
            m = first.join("g", "app", "127.0.0.1:1", List.of("t"), Duration.ofSeconds(30), OffsetReset.EARLIEST).join();
        } finally {
            first.close(); // leaves its host lease (2 s) to expire: the member's keys go with it unless adopted
        }
        Recorder r = sync("g", m);
        await(() -> r.owned().size() == 4, "the member owns every partition");
        List<AssignedPartition> before = r.last().owned();
        for (int i = 0; i < 16; i++) {
            coordinator.heartbeat("g", m.memberId()).join();
            Thread.sleep(250);
        }
        assertThat(coordinator.stats().adoptions()).isEqualTo(1);
        assertThat(coordinator.stats().hostedMembers()).isEqualTo(1);
        assertThat(r.ended).isNull();
        assertThat(r.last().owned()).as("same ownerships, same epochs: nothing to read again").isEqualTo(before);
        assertThat(coordinator.describe("g").join().members()).singleElement()
                .satisfies(x -> assertThat(x.owned()).hasSize(4));
    }

    @Test
    void aNodeDropsASessionOnceAnotherNodeAdoptedItOrItsGroupWasDeleted() throws Exception {
        topic("t", 2, 10);
        GroupCoordinator other = newCoordinator();
        try {
            GroupMember m = join("g", Duration.ofSeconds(30), OffsetReset.EARLIEST);
            assertThat(coordinator.stats().hostedMembers()).isEqualTo(1);
            other.heartbeat("g", m.memberId()).join();
            await(() -> coordinator.stats().hostedMembers() == 0, "the first node learned that the member moved");
            assertThat(other.stats().hostedMembers()).isEqualTo(1);
            coordinator.delete("g", true).join();
            await(() -> other.stats().hostedMembers() == 0, "the hosting node learned that the member is gone");
            assertThat(cause(() -> other.heartbeat("g", m.memberId()).join())).isInstanceOf(UnknownMemberException.class);
        } finally {
            other.close();
        }
    }

    @Test
    void badCommitsAreRefusedAndChangeNothing() throws Exception {
        topic("t", 2, 10);
        GroupMember a = join("g", Duration.ofSeconds(10), OffsetReset.EARLIEST);
        Recorder ra = sync("g", a);
        await(() -> ra.owned().size() == 2, "owns both");
        GroupMember b = join("g", Duration.ofSeconds(10), OffsetReset.EARLIEST);
        var beyond = List.of(new GroupCoordinator.CommitRequest(tp(0), 11, ""));
        assertThat(cause(() -> coordinator.commit("g", a.memberId(), beyond, Set.of()).join()))
                .isInstanceOf(OffsetOutOfRangeException.class);
        var fine = List.of(new GroupCoordinator.CommitRequest(tp(0), 10, ""));
        assertThat(cause(() -> coordinator.commit("g", b.memberId(), fine, Set.of()).join()))
                .isInstanceOf(NotOwnerException.class);
        assertThat(cause(() -> coordinator.commit("g", "app-000000000000", fine, Set.of()).join()))
                .isInstanceOf(UnknownMemberException.class);
        var hugeMetadata = List.of(new GroupCoordinator.CommitRequest(tp(0), 1, "x".repeat(4097)));
        assertThat(cause(() -> coordinator.commit("g", a.memberId(), hugeMetadata, Set.of()).join()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(cause(() -> coordinator.join("g", "c".repeat(256), "", List.of("t"), Duration.ZERO,
                OffsetReset.EARLIEST).join())).isInstanceOf(IllegalArgumentException.class);
        var badPartition = List.of(new GroupCoordinator.CommitRequest(tp(5), 1, ""));
        assertThat(cause(() -> coordinator.commit("g", a.memberId(), badPartition, Set.of()).join()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(coordinator.committed("g", Optional.empty()).join()).isEmpty();
        coordinator.commit("g", a.memberId(), fine, Set.of()).join();
        assertThat(coordinator.committed("g", Optional.empty()).join().get(tp(0)).offset()).isEqualTo(10);
        assertThat(cause(() -> coordinator.join("g", "x", "", List.of("nope"), Duration.ZERO, OffsetReset.EARLIEST)
                .join())).isInstanceOf(UnknownTopicException.class);
        assertThat(cause(() -> coordinator.join("g", "x", "", List.of("t"), Duration.ofHours(1), OffsetReset.EARLIEST)
                .join())).isInstanceOf(IllegalArgumentException.class);
        assertThat(cause(() -> coordinator.describe("nobody").join())).isInstanceOf(UnknownGroupException.class);
    }

    @Test
    void describeShowsLagAndResetMovesOffsetsOnlyOfAQuietGroup() throws Exception {
        topic("t", 3, 100);
        GroupMember a = join("g", Duration.ofSeconds(10), OffsetReset.EARLIEST);
        Recorder ra = sync("g", a);
        await(() -> ra.owned().size() == 3, "owns all three");
        coordinator.commit("g", a.memberId(), IntStream.range(0, 3)
                .mapToObj(p -> new GroupCoordinator.CommitRequest(tp(p), 100 - p * 10, "")).toList(), Set.of()).join();
        GroupDescription d = coordinator.describe("g").join();
        assertThat(d.partitions()).extracting(GroupDescription.PartitionLag::lag).containsExactly(0L, 10L, 20L);
        assertThat(coordinator.describeAll().join()).as("every group at once, as the lag metrics read it")
                .containsExactly(d);
        // Ends read a moment ago by the caller (the console's round) stand in for reading them again, and an end
        // read before a commit gives no negative lag; one of another topic of the same name is not taken.
        Topic t = metadata.getTopic("t").join().orElseThrow();
        // Committed 100, 90 and 80 of 100 each: p0's end given as 100, p1's as 95 (lag 5, not 10), p2's as 70 (below
        // its commit: 0, not -10 or 20).
        Map<TopicPartition, PartitionOffsets> known = new java.util.HashMap<>(Map.of(
                tp(0), new PartitionOffsets(t.partition(0), 0, 100),
                tp(1), new PartitionOffsets(t.partition(1), 0, 95),
                tp(2), new PartitionOffsets(t.partition(2), 0, 70)));
        assertThat(coordinator.describeAll(known).join()).singleElement().satisfies(all ->
                assertThat(all.partitions()).extracting(GroupDescription.PartitionLag::lag).containsExactly(0L, 5L, 0L));
        // An end not known (or one of another topic of the same name) is not read: the group is left out, never
        // described in part.
        known.put(tp(0), new PartitionOffsets(new PartitionId(t.topicId() + 1000, 0), 0, 1000));
        assertThat(coordinator.describeAll(known).join()).isEmpty();
        known.remove(tp(0));
        assertThat(coordinator.describeAll(known).join()).isEmpty();
        assertThat(d.members()).singleElement().satisfies(m -> assertThat(m.owned()).hasSize(3));
        assertThat(cause(() -> coordinator.reset("g", new ResetSpec.Earliest(), Optional.empty(), OptionalInt.empty(),
                false).join())).isInstanceOf(GroupActiveException.class);
        coordinator.leave("g", a.memberId()).join();
        assertThat(coordinator.reset("g", new ResetSpec.ShiftBy(-30), Optional.of("t"), OptionalInt.of(1), false).join())
                .isEqualTo(Map.of(tp(1), 60L));
        assertThat(coordinator.reset("g", new ResetSpec.ToTimestamp(5), Optional.of("t"), OptionalInt.empty(), false)
                .join()).containsValues(50L, 50L, 50L);
        assertThat(coordinator.reset("g", new ResetSpec.Earliest(), Optional.empty(), OptionalInt.empty(), false).join())
                .containsValues(0L, 0L, 0L);
        assertThat(coordinator.describe("g").join().state()).isEqualTo(GroupDescription.State.EMPTY);
        assertThat(coordinator.list().join()).singleElement()
                .satisfies(l -> assertThat(l.state()).isEqualTo(GroupDescription.State.EMPTY));
        coordinator.delete("g", false).join();
        assertThat(coordinator.list().join()).isEmpty();
    }

    @Test
    void aHundredMembersOverAThousandPartitionsSettleBalancedWithEveryPartitionOwnedOnce() throws Exception {
        topic("t", 1000, 1);
        List<Recorder> members = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            members.add(syncReleasing("g", join("g", Duration.ofSeconds(30), OffsetReset.EARLIEST)));
        }
        try {
            await(() -> members.stream().allMatch(r -> r.owned().size() == 10 && r.last().waiting() == 0),
                    "every member owns ten partitions");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; owned/waiting/revoking per member: " + members.stream()
                    .map(r -> r.owned().size() + "/" + r.last().waiting() + "/" + r.last().revoking().size()
                            + (r.ended != null ? "(ended)" : "")).toList() + "; " + coordinator.describe("g").join().state());
        }
        long settledMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        Set<TopicPartition> all = new HashSet<>();
        members.forEach(r -> all.addAll(r.owned()));
        assertThat(all).hasSize(1000);
        assertThat(coordinator.describe("g").join().state()).isEqualTo(GroupDescription.State.STABLE);
        System.out.printf("%s: 100 members joined one by one over 1,000 partitions, settled in %d ms%n",
                getClass().getSimpleName(), settledMs);
    }
}
