package io.strata.transactions.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import io.strata.metadata.txn.TransactionStore;
import io.strata.testkit.MutableClock;
import io.strata.transactions.TransactionCodec;
import io.strata.transactions.TransactionError;
import io.strata.transactions.TransactionException;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.Transactions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The coordinator over the embedded metadata store (a product adapter) and a clock the test moves. */
class TransactionCoordinatorTest {
    @TempDir
    Path dir;
    private MetadataStore metadata;
    private final MutableClock clock = new MutableClock(1_000_000);
    private TransactionCoordinator coordinator;
    private Topic a;
    private Topic b;

    @BeforeEach
    void open() {
        metadata = MetadataStores.embedded(dir.resolve("metadata"), 4);
        a = metadata.createTopic(new TopicConfig("a", 2, -1, -1)).join();
        b = metadata.createTopic(new TopicConfig("b", 1, -1, -1)).join();
        coordinator = new TransactionCoordinator(metadata, Transactions.DEFAULT_LIMITS, clock);
    }

    @AfterEach
    void close() {
        metadata.close();
    }

    private static List<TransactionCoordinator.PartitionName> names(String... topicPartitions) {
        List<TransactionCoordinator.PartitionName> names = new ArrayList<>();
        for (String tp : topicPartitions) {
            String[] parts = tp.split("/");
            names.add(new TransactionCoordinator.PartitionName(parts[0], Integer.parseInt(parts[1])));
        }
        return names;
    }

    private static TransactionError refusal(CompletableFuture<?> call) {
        try {
            call.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof TransactionException t) {
                return t.error();
            }
            throw e;
        }
        throw new AssertionError("not refused");
    }

    @Test
    void aTransactionOverTwoTopicsCommitsAsOneWriteAndLeavesNoMarks() {
        TransactionCoordinator.Producer p = coordinator.initProducer("etl", 60_000).join();
        TransactionRecord open = coordinator.addPartitions("etl", p.producerId(), p.producerEpoch(),
                names("a/0", "a/1", "b/0")).join();
        assertThat(open.state()).isEqualTo(TransactionRecord.State.ONGOING);
        assertThat(open.partitions()).extracting(tp -> tp.topicId() + "/" + tp.partition())
                .containsExactly(a.topicId() + "/0", a.topicId() + "/1", b.topicId() + "/0");
        TransactionStore.Open txn = new TransactionStore.Open(open.txnProducerId(), open.txnEpoch());
        assertThat(metadata.transactions().isOpen(txn).join()).as("its batches may be committed").isTrue();
        TransactionRecord done = coordinator.commit("etl", p.producerId(), p.producerEpoch()).join();
        assertThat(metadata.transactions().isOpen(txn).join()).as("no batch of it is committed any more").isFalse();
        assertThat(done.lastOutcome()).isEqualTo(TransactionRecord.Outcome.COMMITTED);
        assertThat(coordinator.commit("etl", p.producerId(), p.producerEpoch()).join()).as("asked again")
                .isEqualTo(done);
        assertThat(metadata.transactions().allAborted().join()).isEmpty();
        assertThat(coordinator.describe("etl").join()).contains(done);
    }

    @Test
    void groupOffsetsCommitWithTheTransactionWhileTheMemberOwnsThePartitionsAndAbortItOtherwise() {
        var groups = metadata.groups();
        long host = groups.grantHostLease(java.time.Duration.ofSeconds(60)).join();
        var member = groups.join("pipeline", new io.strata.metadata.group.MemberSpec("c", "127.0.0.1:1",
                List.of("a"), java.time.Duration.ofSeconds(30), io.strata.metadata.group.OffsetReset.EARLIEST), host)
                .join();
        var a0 = new io.strata.metadata.group.TopicPartition("a", 0);
        var a1 = new io.strata.metadata.group.TopicPartition("a", 1);
        java.util.Map<io.strata.metadata.group.TopicPartition, Long> epochs = groups.acquire("pipeline", member,
                List.of(a0, a1)).join();
        TransactionCoordinator.Producer p = coordinator.initProducer("etl", 60_000).join();
        coordinator.addPartitions("etl", p.producerId(), p.producerEpoch(), names("b/0")).join();
        assertThat(refusal(coordinator.addOffsets("etl", p.producerId(), p.producerEpoch(), "pipeline", "someone-else",
                List.of(new TransactionCoordinator.GroupPosition("a", 0, 5, "", epochs.get(a0))))))
                .as("not the owner").isEqualTo(TransactionError.NOT_GROUP_OWNER);
        TransactionRecord open = coordinator.addOffsets("etl", p.producerId(), p.producerEpoch(), "pipeline",
                member.memberId(), List.of(new TransactionCoordinator.GroupPosition("a", 0, 5, "m", epochs.get(a0)),
                        new TransactionCoordinator.GroupPosition("a", 1, 7, "", epochs.get(a1)))).join();
        assertThat(open.offsets()).hasSize(2);
        assertThat(groups.committed("pipeline").join()).as("nothing before the commit").isEmpty();
        coordinator.commit("etl", p.producerId(), p.producerEpoch()).join();
        var committed = groups.committed("pipeline").join();
        assertThat(committed.get(a0).offset()).isEqualTo(5);
        assertThat(committed.get(a1).offset()).isEqualTo(7);

        // The member loses a partition between adding its offset and the commit: the transaction aborts.
        coordinator.addOffsets("etl", p.producerId(), p.producerEpoch(), "pipeline", member.memberId(),
                List.of(new TransactionCoordinator.GroupPosition("a", 0, 9, "", epochs.get(a0)))).join();
        groups.commit("pipeline", member.memberId(), List.of(), java.util.Set.of(a0)).join(); // released
        assertThat(refusal(coordinator.commit("etl", p.producerId(), p.producerEpoch())))
                .isEqualTo(TransactionError.NOT_GROUP_OWNER);
        assertThat(coordinator.describe("etl").join().orElseThrow().lastOutcome())
                .isEqualTo(TransactionRecord.Outcome.ABORTED);
        assertThat(groups.committed("pipeline").join().get(a0).offset()).as("not moved by the aborted one")
                .isEqualTo(5);
    }

    @Test
    void anAbortMarksEveryPartitionItMayHaveWrittenToWithItsIdentity() {
        TransactionCoordinator.Producer p = coordinator.initProducer("etl", 60_000).join();
        TransactionRecord open = coordinator.addPartitions("etl", p.producerId(), p.producerEpoch(),
                names("a/0", "b/0")).join();
        TransactionRecord done = coordinator.abort("etl", p.producerId(), p.producerEpoch()).join();
        assertThat(metadata.transactions().isOpen(new TransactionStore.Open(open.txnProducerId(), open.txnEpoch()))
                .join()).isFalse();
        assertThat(done.state()).isEqualTo(TransactionRecord.State.READY);
        assertThat(done.lastOutcome()).isEqualTo(TransactionRecord.Outcome.ABORTED);
        assertThat(metadata.transactions().allAborted().join()).containsExactlyInAnyOrder(
                new TransactionStore.Aborted(a.topicId(), 0, p.producerId(), open.txnEpoch(), 0),
                new TransactionStore.Aborted(b.topicId(), 0, p.producerId(), open.txnEpoch(), 0));
        assertThat(refusal(coordinator.commit("etl", p.producerId(), p.producerEpoch())))
                .isEqualTo(TransactionError.INVALID_STATE);
    }

    @Test
    void aNewProducerFencesTheOldOneAndAbortsWhatItLeftOpen() {
        TransactionCoordinator.Producer old = coordinator.initProducer("etl", 60_000).join();
        TransactionRecord open = coordinator.addPartitions("etl", old.producerId(), old.producerEpoch(),
                names("a/1")).join();
        TransactionCoordinator.Producer next = coordinator.initProducer("etl", 60_000).join();
        assertThat(next.producerId()).isEqualTo(old.producerId());
        assertThat(next.producerEpoch()).isEqualTo(old.producerEpoch() + 1);
        assertThat(metadata.transactions().aborted(a.topicId(), 1).join()).extracting(TransactionStore.Aborted::txnEpoch)
                .containsExactly(open.txnEpoch());
        assertThat(refusal(coordinator.commit("etl", old.producerId(), old.producerEpoch())))
                .isEqualTo(TransactionError.PRODUCER_FENCED);
        assertThat(refusal(coordinator.addPartitions("etl", old.producerId(), old.producerEpoch(), names("a/0"))))
                .isEqualTo(TransactionError.PRODUCER_FENCED);
        assertThat(coordinator.addPartitions("etl", next.producerId(), next.producerEpoch(), names("a/0")).join()
                .state()).isEqualTo(TransactionRecord.State.ONGOING);
    }

    @Test
    void theClusterAbortsATransactionOpenPastItsTimeoutAndFencesItsProducer() {
        TransactionCoordinator.Producer p = coordinator.initProducer("slow", 5_000).join();
        TransactionRecord open = coordinator.addPartitions("slow", p.producerId(), p.producerEpoch(), names("b/0"))
                .join();
        clock.advanceMillis(4_999);
        assertThat(coordinator.endOverdue().join()).isZero();
        clock.advanceMillis(1);
        assertThat(coordinator.endOverdue().join()).isEqualTo(1);
        assertThat(metadata.transactions().aborted(b.topicId(), 0).join()).extracting(TransactionStore.Aborted::txnEpoch)
                .containsExactly(open.txnEpoch());
        assertThat(refusal(coordinator.commit("slow", p.producerId(), p.producerEpoch())))
                .isEqualTo(TransactionError.PRODUCER_FENCED);
        assertThat(coordinator.describe("slow").join().orElseThrow().lastOutcome())
                .isEqualTo(TransactionRecord.Outcome.ABORTED);
    }

    @Test
    void anAbortACoordinatorLeftPreparedIsFinishedByTheNextOneToFindIt() {
        TransactionCoordinator.Producer p = coordinator.initProducer("etl", 60_000).join();
        TransactionRecord open = coordinator.addPartitions("etl", p.producerId(), p.producerEpoch(),
                names("a/0", "a/1")).join();
        // A coordinator that stored the prepared abort and stopped before marking anything.
        TransactionStore.Stored stored = metadata.transactions().load("etl").join().orElseThrow();
        TransactionRecord prepared = Transactions.abort(open, p.producerId(), p.producerEpoch(), clock.millis());
        metadata.transactions().save("etl", TransactionCodec.encode(prepared), stored.revision()).join().orElseThrow();
        assertThat(refusal(coordinator.commit("etl", p.producerId(), p.producerEpoch())))
                .as("it can only end as an abort").isEqualTo(TransactionError.INVALID_STATE);
        clock.advanceMillis(10_000);
        assertThat(coordinator.endOverdue().join()).isEqualTo(1);
        assertThat(metadata.transactions().allAborted().join()).hasSize(2);
        assertThat(coordinator.describe("etl").join().orElseThrow().state()).isEqualTo(TransactionRecord.State.READY);
    }

    @Test
    void anIdWhoseEpochsAreUsedUpGetsANewProducerIdWhenInitialisedAgain() {
        TransactionCoordinator.Producer first = coordinator.initProducer("etl", 60_000).join();
        TransactionStore.Stored stored = metadata.transactions().load("etl").join().orElseThrow();
        TransactionRecord r = TransactionCodec.decode(stored.record());
        TransactionRecord lastEpoch = new TransactionRecord(r.transactionalId(), r.producerId(),
                TransactionRecord.MAX_PRODUCER_EPOCH - 1, r.transactions(), r.txnProducerId(), r.txnEpoch(), r.state(),
                r.timeoutMs(), r.startedAtMs(), r.partitions(), r.offsets(), r.lastOutcome(), r.updatedAtMs());
        metadata.transactions().save("etl", TransactionCodec.encode(lastEpoch), stored.revision()).join().orElseThrow();

        TransactionCoordinator.Producer next = coordinator.initProducer("etl", 60_000).join();
        assertThat(next.producerId()).isNotEqualTo(first.producerId());
        assertThat(next.producerEpoch()).isZero();
    }

    @Test
    void anIdInitialisedByAnotherPrincipalGetsAProducerOfItsOwnAndTheFirstIsFenced() {
        // Producer ids that name their principal, as a cluster with authentication issues them.
        java.util.Map<Long, String> issued = new java.util.concurrent.ConcurrentHashMap<>();
        TransactionCoordinator bound = new TransactionCoordinator(metadata, TransactionCoordinator.IdIssuer.of(
                principal -> metadata.allocateProducerId().thenApply(id -> {
                    issued.put(id, principal);
                    return id;
                }), (id, principal) -> principal.equals(issued.get(id))), Transactions.DEFAULT_LIMITS, clock,
                Transactions.DEFAULT_ID_EXPIRY_MS);
        TransactionCoordinator.Producer alice = bound.initProducer("etl", 60_000, "User:alice").join();
        bound.addPartitions("etl", alice.producerId(), alice.producerEpoch(), names("a/0")).join();

        TransactionCoordinator.Producer bob = bound.initProducer("etl", 60_000, "User:bob").join();
        assertThat(bob.producerId()).as("never alice's id, which only alice may produce with")
                .isNotEqualTo(alice.producerId());
        assertThat(issued.get(bob.producerId())).isEqualTo("User:bob");
        assertThat(refusal(bound.commit("etl", alice.producerId(), alice.producerEpoch())))
                .isEqualTo(TransactionError.PRODUCER_FENCED);
        TransactionCoordinator.Producer again = bound.initProducer("etl", 60_000, "User:bob").join();
        assertThat(again.producerId()).as("bob's own id is kept for bob").isEqualTo(bob.producerId());
        assertThat(again.producerEpoch()).isEqualTo(bob.producerEpoch() + 1);
    }

    @Test
    void producersInitialisedAtOnceEachGetAnEpochOfTheirOwn() {
        List<CompletableFuture<TransactionCoordinator.Producer>> racing = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            racing.add(CompletableFuture.supplyAsync(() -> coordinator.initProducer("shared", 60_000).join()));
        }
        List<TransactionCoordinator.Producer> got = racing.stream().map(CompletableFuture::join).toList();
        Set<Integer> epochs = got.stream().map(TransactionCoordinator.Producer::producerEpoch)
                .collect(Collectors.toSet());
        assertThat(epochs).hasSize(8);
        assertThat(got).extracting(TransactionCoordinator.Producer::producerId).containsOnly(got.get(0).producerId());
        assertThat(coordinator.describe("shared").join().orElseThrow().producerEpoch()).isEqualTo(7);
    }

    @Test
    void aPartitionThatDoesNotExistIsRefusedWithNothingStored() {
        TransactionCoordinator.Producer p = coordinator.initProducer("etl", 60_000).join();
        assertThatThrownBy(() -> coordinator.addPartitions("etl", p.producerId(), p.producerEpoch(), names("a/2"))
                .join()).hasCauseInstanceOf(IllegalArgumentException.class).hasMessageContaining("partitions 0 to 1");
        assertThatThrownBy(() -> coordinator.addPartitions("etl", p.producerId(), p.producerEpoch(), names("zz/0"))
                .join()).hasMessageContaining("no topic zz");
        assertThat(coordinator.describe("etl").join().orElseThrow().state()).isEqualTo(TransactionRecord.State.READY);
        assertThat(refusal(coordinator.initProducer("etl", Transactions.DEFAULT_LIMITS.maxTimeoutMs() + 1)))
                .isEqualTo(TransactionError.INVALID_TIMEOUT);
        assertThat(coordinator.list().join()).extracting(TransactionRecord::transactionalId).containsExactly("etl");
    }

    @Test
    void anIdUnusedPastItsExpiryIsForgottenAndOneInUseNever() throws InterruptedException {
        TransactionCoordinator.Producer idle = coordinator.initProducer("idle", 60_000).join();
        TransactionCoordinator.Producer busy = coordinator.initProducer("busy", 60_000).join();
        coordinator.addPartitions("busy", busy.producerId(), busy.producerEpoch(), names("a/0")).join();
        clock.advanceMillis(Transactions.DEFAULT_ID_EXPIRY_MS);
        coordinator.endOverdue().join();
        await(() -> coordinator.describe("idle").join().isEmpty());
        assertThat(coordinator.describe("busy").join()).as("its transaction timed out: aborted, kept").isPresent();
        TransactionCoordinator.Producer back = coordinator.initProducer("idle", 60_000).join();
        assertThat(back.producerId()).as("starts afresh").isNotEqualTo(idle.producerId());
        assertThat(back.producerEpoch()).isZero();
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(condition.getAsBoolean()).isTrue();
    }
}
