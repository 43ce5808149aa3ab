package io.strata.metadata.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.metadata.MetadataStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link GroupStore} must keep, on the embedded store and on a real etcd: sessions that live only
 * while heartbeats renew them, one owner per partition, commits fenced by ownership, guarded targets, resets
 * refused while members live, deletion that leaves no keys.
 */
public abstract class GroupStoreContract {
    protected MetadataStore store;
    protected GroupStore groups;
    /** The host lease of the members most tests join: long enough to outlive every test. */
    private long host;

    protected abstract MetadataStore newStore();

    @BeforeEach
    void open() {
        store = newStore();
        groups = store.groups();
        host = groups.grantHostLease(Duration.ofSeconds(60)).join();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    private static MemberSpec spec(String client, Duration session, String... topics) {
        return new MemberSpec(client, "127.0.0.1:5000", List.of(topics), session, OffsetReset.EARLIEST);
    }

    private GroupMember join(String group, String client) {
        return groups.join(group, spec(client, Duration.ofSeconds(30), "t"), host).join();
    }

    private static List<TopicPartition> partitions(int n) {
        return IntStream.range(0, n).mapToObj(p -> new TopicPartition("t", p)).toList();
    }

    private static OffsetCommit at(int partition, long offset) {
        return new OffsetCommit(new TopicPartition("t", partition), offset, "", 1, 0);
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(100);
        }
    }

    @Test
    void aMemberMayChooseItsIdButNeverTakeALiveMembersOne() {
        MemberSpec chosen = new MemberSpec("kafka-app", "127.0.0.1:5000", List.of("t"), Duration.ofSeconds(30),
                OffsetReset.EARLIEST, MemberSpec.STRATA, "Xy_9-kafkaUuid0000000A");
        GroupMember m = groups.join("g", chosen, host).join();
        assertThat(m.memberId()).isEqualTo("Xy_9-kafkaUuid0000000A");
        groups.acquire("g", m, partitions(2)).join();

        assertThatThrownBy(() -> groups.join("g", chosen, host).join()).hasCauseInstanceOf(MemberIdTakenException.class);
        GroupSnapshot snap = groups.read("g").join();
        assertThat(snap.members()).hasSize(1);
        assertThat(snap.owners()).as("the live member kept its partitions").hasSize(2);
        assertThat(snap.members().get(m.memberId()).revision()).as("and its key was not rewritten")
                .isEqualTo(m.revision());

        assertThat(groups.leave("g", m.memberId()).join()).isTrue();
        assertThat(groups.join("g", chosen, host).join().memberId()).as("free again once it left")
                .isEqualTo(m.memberId());
    }

    @Test
    void membersLiveWhileTheirHostLeaseIsRenewedAndGoWithIt() throws Exception {
        long lease = groups.grantHostLease(Duration.ofSeconds(2)).join();
        GroupMember m = groups.join("g", spec("app", Duration.ofSeconds(30), "t"), lease).join();
        groups.acquire("g", m, partitions(2)).join();
        for (int i = 0; i < 8; i++) {
            Thread.sleep(500);
            assertThat(groups.renewHostLease(lease).join()).isTrue();
        }
        assertThat(groups.read("g").join().members()).containsOnlyKeys(m.memberId());
        awaitTrue(() -> groups.read("g").join().members().isEmpty(), "the host lease expired");
        assertThat(groups.read("g").join().owners()).as("the partition leases went with it").isEmpty();
        assertThat(groups.renewHostLease(lease).join()).isFalse();
        assertThat(groups.read("g").join().exists()).as("the group outlives its members").isTrue();
    }

    @Test
    void anAdoptedMemberKeepsItsPartitionsAndTheirEpochsWhenItsOldHostDies() throws Exception {
        long old = groups.grantHostLease(Duration.ofSeconds(1)).join();
        GroupMember m = groups.join("g", spec("app", Duration.ofSeconds(30), "t"), old).join();
        Map<TopicPartition, Long> epochs = groups.acquire("g", m, partitions(200)).join();
        assertThat(epochs).hasSize(200);
        GroupMember adopted = groups.adopt("g", m.memberId(), host).join().orElseThrow();
        assertThat(adopted.leaseId()).isEqualTo(host);
        assertThat(groups.adopt("g", m.memberId(), host).join()).contains(adopted);
        assertThat(groups.expire("g", m).join()).as("the old host's version of the member is gone").isFalse();
        Thread.sleep(2_500); // the old host's lease expires
        GroupSnapshot s = groups.read("g").join();
        assertThat(s.members()).containsOnlyKeys(m.memberId());
        assertThat(s.owners()).hasSize(200);
        epochs.forEach((p, epoch) -> assertThat(s.owners().get(p).epoch()).isEqualTo(epoch));
        assertThat(groups.adopt("g", "never-joined-1", host).join()).isEmpty();
        assertThat(groups.expire("g", adopted).join()).isTrue();
        assertThat(groups.read("g").join().members()).isEmpty();
        assertThat(groups.read("g").join().owners()).as("hundreds of partition leases, all freed").isEmpty();
    }

    @Test
    void anOrphanedPartitionLeaseIsDroppedOnlyWhenItsMemberIsGone() {
        GroupMember a = join("g", "a");
        GroupMember b = join("g", "b");
        groups.acquire("g", a, partitions(1)).join();
        GroupSnapshot before = groups.read("g").join();
        // A snapshot that misses a live member must not free its partition.
        GroupSnapshot missingA = new GroupSnapshot("g", true, Map.of(b.memberId(), b), before.owners(),
                before.target(), before.targetModRevision(), before.groupModRevision(), before.revision());
        assertThat(groups.dropOrphans(missingA).join()).isZero();
        assertThat(groups.read("g").join().owners()).hasSize(1);
        // The race dropOrphans mends: partitions taken for a member while it leaves.
        groups.leave("g", a.memberId()).join();
        for (int i = 0; i < 10; i++) {
            GroupMember x = join("g", "x");
            CompletableFuture<Map<TopicPartition, Long>> taking = groups.acquire("g", x, partitions(50));
            groups.leave("g", x.memberId()).join();
            taking.join();
            GroupSnapshot s = groups.read("g").join();
            groups.dropOrphans(s).join();
        }
        GroupSnapshot after = groups.read("g").join();
        assertThat(after.owners().values()).allSatisfy(o -> assertThat(after.members()).containsKey(o.memberId()));
        assertThat(groups.acquire("g", b, partitions(50)).join()).hasSize(50);
    }

    @Test
    void twoMembersNeverOwnOnePartition() {
        GroupMember a = join("g", "a");
        GroupMember b = join("g", "b");
        CompletableFuture<Map<TopicPartition, Long>> byA = groups.acquire("g", a, partitions(40));
        CompletableFuture<Map<TopicPartition, Long>> byB = groups.acquire("g", b, partitions(40));
        Set<TopicPartition> both = new HashSet<>(byA.join().keySet());
        both.retainAll(byB.join().keySet());
        assertThat(both).isEmpty();
        assertThat(byA.join().size() + byB.join().size()).isEqualTo(40);
        GroupSnapshot s = groups.read("g").join();
        assertThat(s.owners()).hasSize(40);
        byA.join().forEach((p, epoch) -> {
            assertThat(s.owners().get(p).memberId()).isEqualTo(a.memberId());
            assertThat(s.owners().get(p).epoch()).as("the epoch is the owner key's create revision").isEqualTo(epoch);
        });
    }

    @Test
    void aLeavingMemberFreesItsPartitionsAtOnce() {
        GroupMember a = join("g", "a");
        GroupMember b = join("g", "b");
        assertThat(groups.acquire("g", a, partitions(4)).join()).hasSize(4);
        assertThat(groups.acquire("g", b, partitions(4)).join()).isEmpty();
        assertThat(groups.leave("g", a.memberId()).join()).isTrue();
        assertThat(groups.leave("g", a.memberId()).join()).isFalse();
        assertThat(groups.read("g").join().owners()).isEmpty();
        assertThat(groups.acquire("g", b, partitions(4)).join()).hasSize(4);
        assertThat(groups.acquire("g", a, partitions(1)).join()).as("a member that left takes nothing").isEmpty();
    }

    @Test
    void onlyTheOwnerCommitsAndNothingIsWrittenOtherwise() {
        GroupMember a = join("g", "a");
        GroupMember b = join("g", "b");
        groups.acquire("g", a, partitions(2)).join();
        groups.acquire("g", b, List.of(new TopicPartition("t", 2))).join();
        assertThat(groups.commit("g", a.memberId(), List.of(at(0, 10), at(1, 11)), Set.of()).join())
                .isInstanceOf(CommitOutcome.Committed.class);
        CommitOutcome refused = groups.commit("g", b.memberId(), List.of(at(2, 5), at(0, 99)), Set.of()).join();
        assertThat(refused).isEqualTo(new CommitOutcome.NotOwner(Set.of(new TopicPartition("t", 0))));
        assertThat(groups.commit("g", "never-joined-1", List.of(at(0, 1)), Set.of()).join())
                .isInstanceOf(CommitOutcome.UnknownMember.class);
        Map<TopicPartition, CommittedOffset> committed = groups.committed("g").join();
        assertThat(committed).containsOnlyKeys(new TopicPartition("t", 0), new TopicPartition("t", 1));
        assertThat(committed.get(new TopicPartition("t", 0)).offset()).isEqualTo(10);
        assertThat(committed.get(new TopicPartition("t", 0)).memberId()).isEqualTo(a.memberId());
        assertThat(groups.committedAll().join()).containsOnlyKeys("g").containsEntry("g", committed);
    }

    @Test
    void aCommitRacingAnAdoptionOfItsMemberStillLands() {
        GroupMember a = join("g", "a");
        groups.acquire("g", a, partitions(20)).join();
        long other = groups.grantHostLease(Duration.ofSeconds(60)).join();
        List<CompletableFuture<CommitOutcome>> commits = new ArrayList<>();
        CompletableFuture<?> adoptions = CompletableFuture.completedFuture(null);
        for (int i = 0; i < 10; i++) { // fewer adoptions than a commit's tries: each may collide with all
            long to = i % 2 == 0 ? other : host;
            adoptions = adoptions.thenCompose(x -> groups.adopt("g", a.memberId(), to)); // one after the other
            commits.add(groups.commit("g", a.memberId(), List.of(at(0, i), at(19, i)), Set.of()));
        }
        adoptions.join();
        for (int i = 0; i < commits.size(); i++) {
            assertThat(commits.get(i).join()).as("commit %d", i).isInstanceOf(CommitOutcome.Committed.class);
        }
    }

    @Test
    void aMemberWhoseSessionExpiredCannotCommitForItsSuccessor() {
        GroupMember zombie = join("g", "zombie");
        GroupMember next = join("g", "next");
        groups.acquire("g", zombie, partitions(1)).join();
        assertThat(groups.expire("g", zombie).join()).isTrue();
        assertThat(groups.read("g").join().owners()).isEmpty();
        assertThat(groups.acquire("g", next, partitions(1)).join()).hasSize(1);
        groups.commit("g", next.memberId(), List.of(at(0, 50)), Set.of()).join();
        assertThat(groups.commit("g", zombie.memberId(), List.of(at(0, 7)), Set.of()).join())
                .isInstanceOf(CommitOutcome.UnknownMember.class);
        assertThat(groups.committed("g").join().get(new TopicPartition("t", 0)).offset()).isEqualTo(50);
    }

    @Test
    void aCommitForAnEarlierOwnershipIsRefusedEvenByTheSameMember() {
        GroupMember a = join("g", "a");
        long first = groups.acquire("g", a, partitions(1)).join().get(new TopicPartition("t", 0));
        groups.commit("g", a.memberId(), List.of(at(0, 5)), Set.of(new TopicPartition("t", 0))).join();
        long second = groups.acquire("g", a, partitions(1)).join().get(new TopicPartition("t", 0));
        assertThat(second).isGreaterThan(first);
        groups.commit("g", a.memberId(), List.of(new OffsetCommit(new TopicPartition("t", 0), 90, "", 1, second)),
                Set.of()).join();
        CommitOutcome late = groups.commit("g", a.memberId(),
                List.of(new OffsetCommit(new TopicPartition("t", 0), 40, "", 1, first)), Set.of()).join();
        assertThat(late).isEqualTo(new CommitOutcome.NotOwner(Set.of(new TopicPartition("t", 0))));
        assertThat(groups.committed("g").join().get(new TopicPartition("t", 0)).offset()).isEqualTo(90);
    }

    @Test
    void aFinalCommitReleasesThePartitionInTheSameCall() {
        GroupMember a = join("g", "a");
        GroupMember b = join("g", "b");
        groups.acquire("g", a, partitions(2)).join();
        assertThat(groups.commit("g", a.memberId(), List.of(at(0, 3)), Set.of(new TopicPartition("t", 0))).join())
                .isInstanceOf(CommitOutcome.Committed.class);
        assertThat(groups.read("g").join().owners()).containsOnlyKeys(new TopicPartition("t", 1));
        assertThat(groups.acquire("g", b, partitions(2)).join()).containsOnlyKeys(new TopicPartition("t", 0));
        assertThat(groups.committed("g").join().get(new TopicPartition("t", 0)).offset()).isEqualTo(3);
    }

    @Test
    void aCommitOfHundredsOfPartitionsIsWholeWithinTheStoreLimits() {
        GroupMember a = join("g", "a");
        assertThat(groups.acquire("g", a, partitions(300)).join()).hasSize(300);
        List<OffsetCommit> all = new ArrayList<>();
        IntStream.range(0, 300).forEach(p -> all.add(at(p, p * 2L)));
        assertThat(groups.commit("g", a.memberId(), all, Set.of()).join()).isInstanceOf(CommitOutcome.Committed.class);
        Map<TopicPartition, CommittedOffset> committed = groups.committed("g").join();
        assertThat(committed).hasSize(300);
        assertThat(committed.get(new TopicPartition("t", 299)).offset()).isEqualTo(598);
    }

    @Test
    void aTargetIsPublishedOnlyOverTheRevisionItWasDecidedOn() {
        join("g", "a");
        TargetAssignment first = new TargetAssignment(1, Map.of("a-1", partitions(2)));
        assertThat(groups.publishTarget("g", first, 0).join()).isTrue();
        assertThat(groups.publishTarget("g", new TargetAssignment(1, Map.of()), 0).join()).isFalse();
        GroupSnapshot s = groups.read("g").join();
        assertThat(s.target()).isEqualTo(first);
        assertThat(groups.publishTarget("g", new TargetAssignment(2, Map.of()), s.targetModRevision()).join()).isTrue();
    }

    @Test
    void oneWatchSeesMembersOfEveryGroupComeAndGo() throws Exception {
        long from = groups.read("g").join().revision();
        Map<String, Integer> changes = new java.util.concurrent.ConcurrentHashMap<>();
        try (AutoCloseable watch = groups.watchAll(from, new GroupListener() {
            @Override
            public void onChange(String group, long revision) {
                changes.merge(group, 1, Integer::sum);
            }

            @Override
            public void onBroken(Throwable cause) {
            }
        })) {
            GroupMember a = join("g", "a");
            groups.leave("g", a.memberId()).join();
            join("h", "b");
            awaitTrue(() -> changes.getOrDefault("g", 0) >= 2 && changes.getOrDefault("h", 0) >= 1,
                    "both groups' changes arrived");
        }
    }

    @Test
    void aResetWaitsForAQuietGroupUnlessForced() {
        assertThatThrownBy(() -> groups.resetOffsets("nobody", List.of(at(0, 1)), false).join())
                .hasCauseInstanceOf(UnknownGroupException.class);
        GroupMember a = join("g", "a");
        assertThatThrownBy(() -> groups.resetOffsets("g", List.of(at(0, 1)), false).join())
                .hasCauseInstanceOf(GroupActiveException.class);
        assertThat(groups.committed("g").join()).isEmpty();
        groups.resetOffsets("g", List.of(at(0, 1)), true).join();
        assertThat(groups.committed("g").join().get(new TopicPartition("t", 0)).offset()).isEqualTo(1);
        groups.leave("g", a.memberId()).join();
        groups.resetOffsets("g", List.of(at(0, 4), at(1, 5)), false).join();
        assertThat(groups.committed("g").join().get(new TopicPartition("t", 0)).offset()).isEqualTo(4);
    }

    @Test
    void aDeletedGroupLeavesNoKeys() {
        GroupMember a = join("g", "a");
        join("other", "b");
        groups.acquire("g", a, partitions(1)).join();
        groups.commit("g", a.memberId(), List.of(at(0, 9)), Set.of()).join();
        assertThat(groups.readAll().join().keySet()).containsExactly("g", "other");
        Map<String, GroupSnapshot> all = groups.readAll().join();
        assertThat(all).containsOnlyKeys("g", "other");
        assertThat(all.get("g").members()).containsOnlyKeys(a.memberId());
        assertThat(all.get("g").owners()).containsOnlyKeys(new TopicPartition("t", 0));
        assertThatThrownBy(() -> groups.delete("g", false).join()).hasCauseInstanceOf(GroupActiveException.class);
        assertThat(groups.delete("g", true).join()).isTrue();
        assertThat(groups.delete("g", true).join()).isFalse();
        assertThat(groups.readAll().join().keySet()).containsExactly("other");
        assertThat(groups.committed("g").join()).isEmpty();
        GroupSnapshot gone = groups.read("g").join();
        assertThat(gone.exists()).isFalse();
        assertThat(gone.members()).isEmpty();
        assertThat(gone.owners()).isEmpty();
    }
}
