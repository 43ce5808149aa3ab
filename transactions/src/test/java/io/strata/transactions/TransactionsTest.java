package io.strata.transactions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TransactionsTest {
    private static final Transactions.Limits LIMITS = new Transactions.Limits(60_000, 3, 2);
    private final AtomicLong producerIds = new AtomicLong(100);

    private TransactionRecord init(TransactionRecord current) {
        return Transactions.init(Optional.ofNullable(current), "tx", 10_000, LIMITS, producerIds::incrementAndGet,
                1_000);
    }

    private static TxnPartition p(int partition, long start) {
        return new TxnPartition(7, partition, start);
    }

    @Test
    void aNewIdGetsAProducerAtEpochZeroAndEachLaterProducerTheNextEpochOfTheSameId() {
        TransactionRecord first = init(null);
        assertThat(first.producerId()).isEqualTo(101);
        assertThat(first.producerEpoch()).isZero();
        assertThat(first.state()).isEqualTo(TransactionRecord.State.READY);
        TransactionRecord second = init(first);
        assertThat(second.producerId()).isEqualTo(101);
        assertThat(second.producerEpoch()).isEqualTo(1);
    }

    @Test
    void aCommitOrAbortNamingItsTransactionNeverEndsTheNextOneAndIsAnsweredAsItStandsOnceItEnded() {
        TransactionRecord r = init(null);
        TransactionRecord first = Transactions.add(r, r.producerId(), 0, List.of(p(0, 5)), List.of(), LIMITS, 2_000);
        TransactionRecord committed = Transactions.commit(first, r.producerId(), 0, first.txnEpoch(), 3_000).record();
        assertThat(Transactions.commit(committed, r.producerId(), 0, first.txnEpoch(), 3_500).repeated())
                .as("asked again").isTrue();
        assertThat(Transactions.abort(committed, r.producerId(), 0, first.txnEpoch(), 3_600))
                .as("an abort of it, late: answered as it stands").isEqualTo(committed);
        TransactionRecord second = Transactions.begin(committed, r.producerId(), 0, 4_000);
        assertThat(second.state()).isEqualTo(TransactionRecord.State.ONGOING);
        assertThat(second.partitions()).isEmpty();
        assertThat(Transactions.begin(second, r.producerId(), 0, 4_100)).as("begun already").isEqualTo(second);
        assertThatThrownBy(() -> Transactions.commit(second, r.producerId(), 0, first.txnEpoch(), 5_000))
                .as("the first one's commit, sent again, does not commit the second")
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.INVALID_STATE));
    }

    @Test
    void theFirstPartitionAddedBeginsATransactionWhoseEpochNoEarlierOneHad() {
        TransactionRecord r = init(null);
        TransactionRecord one = Transactions.add(r, r.producerId(), 0, List.of(p(0, 5)), List.of(), LIMITS, 2_000);
        assertThat(one.state()).isEqualTo(TransactionRecord.State.ONGOING);
        assertThat(one.startedAtMs()).isEqualTo(2_000);
        TransactionRecord committed = Transactions.commit(one, r.producerId(), 0, 3_000).record();
        TransactionRecord two = Transactions.add(committed, r.producerId(), 0, List.of(p(1, 9)), List.of(), LIMITS,
                4_000);
        assertThat(two.txnEpoch()).isGreaterThan(one.txnEpoch());
        TransactionRecord afterNewProducer = Transactions.add(init(Transactions.commit(two, r.producerId(), 0, 5_000)
                .record()), r.producerId(), 1, List.of(p(1, 12)), List.of(), LIMITS, 6_000);
        assertThat(afterNewProducer.txnEpoch()).isGreaterThan(two.txnEpoch());
    }

    @Test
    void aPartitionAddedAgainKeepsItsFirstStartAndAnOffsetGivenAgainReplacesTheEarlierOne() {
        TransactionRecord r = init(null);
        TxnOffset at10 = new TxnOffset("g", "in", 3, 0, 10, "");
        TxnOffset at20 = new TxnOffset("g", "in", 3, 0, 20, "m");
        TransactionRecord open = Transactions.add(r, r.producerId(), 0, List.of(p(0, 5)), List.of(at10), LIMITS, 1);
        open = Transactions.add(open, r.producerId(), 0, List.of(p(0, 50), p(1, 3)), List.of(at20), LIMITS, 2);
        assertThat(open.partitions()).containsExactly(p(0, 5), p(1, 3));
        assertThat(open.offsets()).containsExactly(at20);
        Transactions.Commit commit = Transactions.commit(open, r.producerId(), 0, 3);
        assertThat(commit.offsets()).containsExactly(at20);
        assertThat(commit.record().partitions()).isEmpty();
        assertThat(commit.record().lastOutcome()).isEqualTo(TransactionRecord.Outcome.COMMITTED);
    }

    @Test
    void aNewProducerFencesTheOldOneAndAbortsTheTransactionItLeftOpen() {
        TransactionRecord r = init(null);
        TransactionRecord open = Transactions.add(r, r.producerId(), 0, List.of(p(0, 5), p(1, 8)), List.of(), LIMITS,
                1);
        TransactionRecord fencing = init(open);
        assertThat(fencing.state()).isEqualTo(TransactionRecord.State.PREPARE_ABORT);
        assertThat(fencing.producerEpoch()).isEqualTo(1);
        assertThat(Transactions.abortMarks(fencing)).containsExactly(
                new AbortMark(7, 0, r.producerId(), open.txnEpoch(), 5),
                new AbortMark(7, 1, r.producerId(), open.txnEpoch(), 8));
        assertThatThrownBy(() -> Transactions.commit(fencing, r.producerId(), 0, 2))
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.PRODUCER_FENCED));
        TransactionRecord ready = Transactions.abortCompleted(fencing, 3);
        assertThat(ready.state()).isEqualTo(TransactionRecord.State.READY);
        assertThat(ready.lastOutcome()).isEqualTo(TransactionRecord.Outcome.ABORTED);
        assertThatThrownBy(() -> Transactions.add(ready, r.producerId(), 0, List.of(p(2, 0)), List.of(), LIMITS, 4))
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.PRODUCER_FENCED));
        assertThat(Transactions.add(ready, r.producerId(), 1, List.of(p(2, 0)), List.of(), LIMITS, 4).state())
                .isEqualTo(TransactionRecord.State.ONGOING);
    }

    @Test
    void anAbortIsFinishedBeforeAnythingElseHappensToItsTransaction() {
        TransactionRecord r = init(null);
        TransactionRecord open = Transactions.add(r, r.producerId(), 0, List.of(p(0, 5)), List.of(), LIMITS, 1);
        TransactionRecord aborting = Transactions.abort(open, r.producerId(), 0, 2);
        assertThat(aborting.state()).isEqualTo(TransactionRecord.State.PREPARE_ABORT);
        assertThat(Transactions.abort(aborting, r.producerId(), 0, 3)).as("asked again: as it stands")
                .isEqualTo(aborting);
        assertThatThrownBy(() -> Transactions.commit(aborting, r.producerId(), 0, 3))
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.INVALID_STATE));
        assertThatThrownBy(() -> Transactions.add(aborting, r.producerId(), 0, List.of(p(1, 0)), List.of(), LIMITS,
                3)).isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.INVALID_STATE));
        TransactionRecord done = Transactions.abortCompleted(aborting, 4);
        assertThat(Transactions.abort(done, r.producerId(), 0, 5)).as("a repeated abort").isEqualTo(done);
        assertThatThrownBy(() -> Transactions.commit(done, r.producerId(), 0, 5))
                .isInstanceOfSatisfying(TransactionException.class, e -> assertThat(e).hasMessageContaining(
                        "the last one was aborted"));
    }

    @Test
    void aCommitAskedAgainIsAnsweredWithoutWritingAnything() {
        TransactionRecord r = init(null);
        TransactionRecord open = Transactions.add(r, r.producerId(), 0, List.of(p(0, 5)),
                List.of(new TxnOffset("g", "in", 3, 0, 10, "")), LIMITS, 1);
        TransactionRecord committed = Transactions.commit(open, r.producerId(), 0, 2).record();
        Transactions.Commit again = Transactions.commit(committed, r.producerId(), 0, 3);
        assertThat(again.repeated()).isTrue();
        assertThat(again.record()).isSameAs(committed);
        assertThat(again.offsets()).isEmpty();
        assertThatThrownBy(() -> Transactions.commit(r, r.producerId(), 0, 3)).as("nothing ever begun")
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.INVALID_STATE));
    }

    @Test
    void aTransactionOpenPastItsTimeoutIsAbortedAndItsProducerFenced() {
        TransactionRecord r = init(null);
        TransactionRecord open = Transactions.add(r, r.producerId(), 0, List.of(p(0, 5)), List.of(), LIMITS, 1_000);
        assertThat(Transactions.expire(open, 10_999)).isEmpty();
        TransactionRecord expired = Transactions.expire(open, 11_000).orElseThrow();
        assertThat(expired.state()).isEqualTo(TransactionRecord.State.PREPARE_ABORT);
        assertThat(Transactions.abortMarks(expired)).extracting(AbortMark::txnEpoch).containsExactly(open.txnEpoch());
        assertThatThrownBy(() -> Transactions.commit(expired, r.producerId(), 0, 11_001))
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.PRODUCER_FENCED));
        assertThat(Transactions.expire(r, Long.MAX_VALUE)).as("nothing open").isEmpty();
    }

    @Test
    void boundsAreRefusedPreciselyWithNothingChanged() {
        TransactionRecord r = init(null);
        TransactionRecord open = Transactions.add(r, r.producerId(), 0, List.of(p(0, 0), p(1, 0), p(2, 0)), List.of(),
                LIMITS, 1);
        assertThatThrownBy(() -> Transactions.add(open, r.producerId(), 0, List.of(p(3, 0)), List.of(), LIMITS, 2))
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.TOO_MANY_PARTITIONS));
        assertThatThrownBy(() -> Transactions.add(open, r.producerId(), 0, List.of(), List.of(
                new TxnOffset("g", "a", 1, 0, 1, ""), new TxnOffset("g", "a", 1, 1, 1, ""),
                new TxnOffset("g", "a", 1, 2, 1, "")), LIMITS, 2))
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.TOO_MANY_OFFSETS));
        assertThatThrownBy(() -> Transactions.init(Optional.empty(), "tx", 60_001, LIMITS, () -> 1, 0))
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.INVALID_TIMEOUT));
        assertThatThrownBy(() -> Transactions.init(Optional.empty(), "a\nb", 1_000, LIMITS, () -> 1, 0))
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.INVALID_ID));
        assertThatThrownBy(() -> Transactions.add(null, 1, 0, List.of(), List.of(), LIMITS, 0))
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.UNKNOWN_TRANSACTIONAL_ID));
        assertThatThrownBy(() -> Transactions.add(r, r.producerId() + 1, 0, List.of(), List.of(), LIMITS, 0))
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.INVALID_PRODUCER));
    }

    @Test
    void anIdWhoseEpochsAreUsedUpMovesToANewProducerIdAndTheOldOneIsFenced() {
        int last = TransactionRecord.MAX_PRODUCER_EPOCH - 1; // the highest epoch a producer is issued
        TransactionRecord worn = new TransactionRecord("tx", 55, last, 4, 55, TransactionRecord.txnEpoch(last, 4),
                TransactionRecord.State.READY, 10_000, 0, List.of(), List.of(), TransactionRecord.Outcome.COMMITTED,
                0);
        TransactionRecord fresh = init(worn);
        assertThat(fresh.producerId()).isEqualTo(101);
        assertThat(fresh.producerEpoch()).isZero();
        assertThatThrownBy(() -> Transactions.add(fresh, 55, last, List.of(p(0, 0)), List.of(), LIMITS, 1))
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.PRODUCER_FENCED));
    }

    @Test
    void aTimeoutAtTheHighestIssuedEpochStillFencesItsProducerAndNoIdentityComesBack() {
        int last = TransactionRecord.MAX_PRODUCER_EPOCH - 1;
        TransactionRecord ready = new TransactionRecord("tx", 55, last, 0, 55, 0, TransactionRecord.State.READY,
                10_000, 0, List.of(), List.of(), TransactionRecord.Outcome.NONE, 0);
        TransactionRecord open = Transactions.add(ready, 55, last, List.of(p(0, 0)), List.of(), LIMITS, 1);
        TransactionRecord expired = Transactions.expire(open, 20_000).orElseThrow();
        assertThat(expired.producerEpoch()).isEqualTo(TransactionRecord.MAX_PRODUCER_EPOCH);
        TransactionRecord done = Transactions.abortCompleted(expired, 20_001);
        assertThatThrownBy(() -> Transactions.add(done, 55, last, List.of(p(0, 0)), List.of(), LIMITS, 20_002))
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.PRODUCER_FENCED));
        TransactionRecord next = init(done);
        assertThat(next.producerId()).as("a new producer id: no epoch is left on the old one").isEqualTo(101);
    }

    @Test
    void anOperatorsAbortFencesAtOnceAndStampsTheTimeItHappened() {
        TransactionRecord r = init(null);
        TransactionRecord open = Transactions.add(r, r.producerId(), 0, List.of(p(0, 5)), List.of(), LIMITS, 1_000);
        TransactionRecord fenced = Transactions.fence(open, 1_500);
        assertThat(fenced.state()).isEqualTo(TransactionRecord.State.PREPARE_ABORT);
        assertThat(fenced.producerEpoch()).isEqualTo(1);
        assertThat(fenced.updatedAtMs()).isEqualTo(1_500);
        assertThat(Transactions.fence(r, 1_600)).as("nothing open: as it stands").isSameAs(r);
    }

    @Test
    void aBatchIsAdmittedOnlyToAPartitionItsOpenTransactionAdded() {
        TransactionRecord r = init(null);
        TransactionRecord open = Transactions.add(r, r.producerId(), 0, List.of(p(0, 5)), List.of(), LIMITS, 1);
        long pid = r.producerId();
        assertThat(Transactions.refusesBatch(open, pid, open.txnEpoch(), 7, 0)).isNull();
        assertThat(Transactions.refusesBatch(open, pid, open.txnEpoch(), 7, 1).error())
                .isEqualTo(TransactionError.INVALID_STATE);
        assertThat(Transactions.refusesBatch(open, pid, open.txnEpoch() - 1, 7, 0).error()).as("an earlier transaction")
                .isEqualTo(TransactionError.PRODUCER_FENCED);
        assertThat(Transactions.refusesBatch(open, pid, open.txnEpoch() + 1, 7, 0).error())
                .isEqualTo(TransactionError.INVALID_PRODUCER);
        assertThat(Transactions.refusesBatch(open, pid + 1, open.txnEpoch(), 7, 0).error())
                .isEqualTo(TransactionError.INVALID_PRODUCER);
        TransactionRecord committed = Transactions.commit(open, pid, 0, 2).record();
        assertThat(Transactions.refusesBatch(committed, pid, open.txnEpoch(), 7, 0).error()).as("after its commit")
                .isEqualTo(TransactionError.INVALID_STATE);
        TransactionRecord fenced = init(Transactions.add(committed, pid, 0, List.of(p(0, 9)), List.of(), LIMITS, 3));
        assertThat(Transactions.refusesBatch(fenced, pid, open.txnEpoch() + 1, 7, 0).error())
                .as("aborted by a new producer: fenced").isEqualTo(TransactionError.PRODUCER_FENCED);
        assertThat(Transactions.refusesBatch(null, pid, 1, 7, 0).error())
                .isEqualTo(TransactionError.UNKNOWN_TRANSACTIONAL_ID);
    }

    @Test
    void aBatchNamingTheNextTransactionBeginsItAndAddsItsPartitionsButNeverOneThatEndedOrALaterOne() {
        TransactionRecord r = init(init(null)); // producer epoch 1
        long pid = r.producerId();
        long first = TransactionRecord.txnEpoch(1, 1);
        TransactionRecord open = Transactions.addNamed(r, pid, first, List.of(p(0, 5)), LIMITS, 2_000);
        assertThat(open.state()).isEqualTo(TransactionRecord.State.ONGOING);
        assertThat(open.txnEpoch()).isEqualTo(first);
        assertThat(open.partitions()).containsExactly(p(0, 5));
        TransactionRecord more = Transactions.addNamed(open, pid, first, List.of(p(0, 9), p(1, 3)), LIMITS, 2_100);
        assertThat(more.partitions()).as("a partition added again keeps its start").containsExactly(p(0, 5), p(1, 3));
        assertThat(Transactions.refusesBatch(more, pid, first, 7, 1)).isNull();
        assertThat(Transactions.addNamed(more, pid, first, List.of(p(1, 4)), LIMITS, 2_200)).as("nothing new")
                .isEqualTo(more);

        TransactionRecord committed = Transactions.commit(more, pid, 1, first, 3_000).record();
        assertThatThrownBy(() -> Transactions.addNamed(committed, pid, first, List.of(p(2, 1)), LIMITS, 3_100))
                .as("the committed one, named again").isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.INVALID_STATE));
        assertThatThrownBy(() -> Transactions.addNamed(committed, pid, first + 2, List.of(p(2, 1)), LIMITS, 3_100))
                .as("one after the next").isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.INVALID_STATE));
        TransactionRecord second = Transactions.addNamed(committed, pid, first + 1, List.of(p(2, 1)), LIMITS, 3_200);
        assertThat(second.txnEpoch()).isEqualTo(first + 1);
        assertThat(second.partitions()).containsExactly(p(2, 1));

        assertThatThrownBy(() -> Transactions.addNamed(second, pid, TransactionRecord.txnEpoch(0, 3),
                List.of(p(0, 1)), LIMITS, 3_300)).as("an older producer epoch")
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.PRODUCER_FENCED));
        TransactionRecord aborting = Transactions.abort(second, pid, 1, 3_400);
        assertThatThrownBy(() -> Transactions.addNamed(aborting, pid, first + 1, List.of(p(0, 1)), LIMITS, 3_500))
                .as("being aborted").isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.INVALID_STATE));
        assertThatThrownBy(() -> Transactions.addNamed(second, pid, first + 1, List.of(p(0, 1), p(1, 1), p(3, 1)),
                LIMITS, 3_600)).as("past the bound").isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.TOO_MANY_PARTITIONS));
    }

    @Test
    void aTransactionInOneWriteEndsAsBeginningAddingAndCommittingItWouldAndOnlyForTheProducersNextOne() {
        TransactionRecord r = init(init(null)); // producer epoch 1
        long pid = r.producerId();
        long first = TransactionRecord.txnEpoch(1, 1);
        TransactionRecord oneWrite = Transactions.commitInOneWrite(r, pid, first, 2, LIMITS, 2_000);
        TransactionRecord twoSteps = Transactions.commit(Transactions.addNamed(r, pid, first, List.of(p(0, 5), p(1, 3)),
                LIMITS, 2_000), pid, 1, first, 2_000).record();
        assertThat(oneWrite).isEqualTo(twoSteps);
        assertThat(Transactions.commit(oneWrite, pid, 1, first, 2_100).repeated())
                .as("its commit asked again is answered as it stands").isTrue();
        assertThat(Transactions.commitInOneWrite(oneWrite, pid, first + 1, 1, LIMITS, 2_200).txnEpoch())
                .as("the next one after it").isEqualTo(first + 1);

        assertThat(Transactions.commitInOneWrite(oneWrite, pid, first, 1, LIMITS, 2_200)).as("the same again").isNull();
        assertThat(Transactions.commitInOneWrite(oneWrite, pid, first + 2, 1, LIMITS, 2_200)).as("one past the next")
                .isNull();
        assertThat(Transactions.commitInOneWrite(r, pid, TransactionRecord.txnEpoch(0, 1), 1, LIMITS, 2_200))
                .as("an older producer epoch").isNull();
        assertThat(Transactions.commitInOneWrite(r, pid + 1, first, 1, LIMITS, 2_200)).as("another producer id")
                .isNull();
        assertThat(Transactions.commitInOneWrite(Transactions.addNamed(r, pid, first, List.of(p(0, 5)), LIMITS, 2_000),
                pid, first, 1, LIMITS, 2_200)).as("already open: the two-step path").isNull();
        assertThat(Transactions.commitInOneWrite(r, pid, first, 4, LIMITS, 2_200)).as("past the bound").isNull();
        assertThat(Transactions.commitInOneWrite(null, pid, first, 1, LIMITS, 2_200)).as("no such id").isNull();
    }

    @Test
    void anAbortNamingTheNextTransactionBeforeItBeganEndsItSoAWriteOfItStillOnItsWayCannotLand() {
        TransactionRecord r = init(init(null)); // producer epoch 1
        long pid = r.producerId();
        long first = TransactionRecord.txnEpoch(1, 1);
        TransactionRecord aborted = Transactions.abort(r, pid, 1, first, 2_000);
        assertThat(aborted.state()).isEqualTo(TransactionRecord.State.READY);
        assertThat(aborted.lastOutcome()).isEqualTo(TransactionRecord.Outcome.ABORTED);
        assertThat(aborted.txnEpoch()).isEqualTo(first);
        assertThat(aborted).as("a new record: the one-write's guard fails").isNotEqualTo(r);
        assertThat(Transactions.commitInOneWrite(aborted, pid, first, 1, LIMITS, 2_100)).isNull();
        assertThat(Transactions.abort(aborted, pid, 1, first, 2_200)).as("asked again: as it stands")
                .isEqualTo(aborted);
        assertThat(Transactions.commitInOneWrite(aborted, pid, first + 1, 1, LIMITS, 2_300)).as("the next goes on")
                .isNotNull();
        assertThatThrownBy(() -> Transactions.commit(aborted, pid, 1, first, 2_400)).as("its commit")
                .isInstanceOfSatisfying(TransactionException.class,
                        e -> assertThat(e.error()).isEqualTo(TransactionError.INVALID_STATE));
    }
}
