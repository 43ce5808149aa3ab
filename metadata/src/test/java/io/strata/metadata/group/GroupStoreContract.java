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

    protected abstract MetadataStore newStore();

    @BeforeEach
    void open() {
        store = newStore();
        groups = store.groups();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    private static MemberSpec spec(String client, Duration session, String... topics) {
        return new MemberSpec(client, "127.0.0.1:5000", List.of(topics), session, OffsetReset.EARLIEST);
    }

    private GroupMember join(String group, String client) {
        return groups.join(group, spec(client, Duration.ofSeconds(30), "t")).join();
    }

    private static List<TopicPartition> partitions(int n) {
        return IntStream.range(0, n).mapToObj(p -> new TopicPartition("t", p)).toList();
    }

    private static OffsetCommit at(int partition, long offset) {
        return new OffsetCommit(new TopicPartition("t", partition), offset, "", 1);
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
    void aMemberLivesWhileItsHeartbeatsRenewItsSessionAndGoesWhenTheyStop() throws Exception {
        GroupMember m = groups.join("g", spec("app", Duration.ofSeconds(2), "t")).join();
        assertThat(groups.read("g").join().members()).containsOnlyKeys(m.memberId());
        for (int i = 0; i < 8; i++) {
            Thread.sleep(500);
            assertThat(groups.heartbeat("g", m.memberId()).join()).isTrue();
        }
        assertThat(groups.read("g").join().members()).containsOnlyKeys(m.memberId());
        awaitTrue(() -> groups.read("g").join().members().isEmpty(), "the silent member's session expired");
        assertThat(groups.heartbeat("g", m.memberId()).join()).isFalse();
        assertThat(groups.read("g").join().exists()).as("the group outlives its members").isTrue();
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
            assertThat(s.owners().get(p).modRevision()).as("the epoch is the owner key's revision").isEqualTo(epoch);
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
    void aMemberWhoseSessionExpiredCannotCommitForItsSuccessor() throws Exception {
        GroupMember zombie = groups.join("g", spec("zombie", Duration.ofSeconds(1), "t")).join();
        GroupMember next = join("g", "next");
        groups.acquire("g", zombie, partitions(1)).join();
        awaitTrue(() -> groups.read("g").join().owners().isEmpty(), "the paused member's session expired");
        assertThat(groups.acquire("g", next, partitions(1)).join()).hasSize(1);
        groups.commit("g", next.memberId(), List.of(at(0, 50)), Set.of()).join();
        assertThat(groups.commit("g", zombie.memberId(), List.of(at(0, 7)), Set.of()).join())
                .isInstanceOf(CommitOutcome.UnknownMember.class);
        assertThat(groups.committed("g").join().get(new TopicPartition("t", 0)).offset()).isEqualTo(50);
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
    void aWatchSeesMembersComeAndGo() throws Exception {
        long from = groups.read("g").join().revision();
        CountDownLatch changes = new CountDownLatch(2);
        try (AutoCloseable watch = groups.watch("g", from, new GroupListener() {
            @Override
            public void onChange(long revision) {
                changes.countDown();
            }

            @Override
            public void onBroken(Throwable cause) {
            }
        })) {
            GroupMember a = join("g", "a");
            groups.leave("g", a.memberId()).join();
            assertThat(changes.await(10, TimeUnit.SECONDS)).isTrue();
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
        assertThat(groups.listGroups().join()).containsExactly("g", "other");
        Map<String, GroupSnapshot> all = groups.readAll().join();
        assertThat(all).containsOnlyKeys("g", "other");
        assertThat(all.get("g").members()).containsOnlyKeys(a.memberId());
        assertThat(all.get("g").owners()).containsOnlyKeys(new TopicPartition("t", 0));
        assertThatThrownBy(() -> groups.delete("g", false).join()).hasCauseInstanceOf(GroupActiveException.class);
        assertThat(groups.delete("g", true).join()).isTrue();
        assertThat(groups.delete("g", true).join()).isFalse();
        assertThat(groups.listGroups().join()).containsExactly("other");
        assertThat(groups.committed("g").join()).isEmpty();
        GroupSnapshot gone = groups.read("g").join();
        assertThat(gone.exists()).isFalse();
        assertThat(gone.members()).isEmpty();
        assertThat(gone.owners()).isEmpty();
    }
}
