package io.strata.transactions;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random histories of producers (old ones left running as zombies) initialising with one transactional id,
 * adding partitions, committing and aborting while time passes and the cluster times transactions out: only the
 * latest producer ever changes anything; every transaction has an identity no other had; each is decided once,
 * committed or aborted, never both; an abort, once prepared, ends as an abort; and every record reads back as it
 * was stored.
 */
class TransactionPropertiesTest {
    private static final Transactions.Limits LIMITS = new Transactions.Limits(5_000, 4, 3);

    /** One step: which producer (a slot) does what, how much time passes first. */
    record Step(int kind, int slot, int partition, int advanceMs) {
    }

    /** A producer as the client holds it. */
    record Producer(long id, int epoch) {
    }

    @Provide
    Arbitrary<List<Step>> histories() {
        Arbitrary<Step> step = Combinators.combine(Arbitraries.integers().between(0, 5),
                Arbitraries.integers().between(0, 2), Arbitraries.integers().between(0, 5),
                Arbitraries.of(0, 10, 400, 2_000, 6_000)).as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(60);
    }

    @Property(tries = 500)
    void onlyTheLatestProducerActsAndEveryTransactionIsDecidedOnceAsAWhole(@ForAll("histories") List<Step> history) {
        check(history, null);
    }

    /** The same near the last epochs of a producer id: the id moves to new producer ids as they run out. */
    @Property(tries = 300)
    void theSameHoldsWhileTheIdRunsOutOfEpochs(@ForAll("histories") List<Step> history) {
        int near = TransactionRecord.MAX_PRODUCER_EPOCH - 3;
        check(history, new TransactionRecord("tx", 900, near, 0, 900, 0, TransactionRecord.State.READY, 3_000, 0,
                List.of(), List.of(), TransactionRecord.Outcome.NONE, 0));
    }

    private void check(List<Step> history, TransactionRecord seed) {
        AtomicLong ids = new AtomicLong(1_000);
        TransactionRecord stored = seed;
        Producer[] slots = new Producer[3];
        Producer latest = null;
        Set<List<Long>> begun = new HashSet<>();
        Set<List<Long>> committed = new HashSet<>();
        Set<List<Long>> aborted = new HashSet<>();
        long now = 0;
        for (Step s : history) {
            now += s.advanceMs();
            if (stored != null) {
                Optional<TransactionRecord> expired = Transactions.expire(stored, now);
                if (expired.isPresent()) {
                    stored = finishAbort(expired.get(), now, aborted, committed);
                }
            }
            Producer p = slots[s.slot()];
            TransactionRecord before = stored;
            try {
                switch (s.kind()) {
                    case 0 -> {
                        TransactionRecord next = Transactions.init(Optional.ofNullable(stored), "tx", 3_000, LIMITS,
                                ids::incrementAndGet, now);
                        if (next.state() == TransactionRecord.State.PREPARE_ABORT) {
                            next = finishAbort(next, now, aborted, committed);
                        }
                        stored = next;
                        slots[s.slot()] = latest = new Producer(next.producerId(), next.producerEpoch());
                    }
                    case 1, 2 -> {
                        if (p == null) {
                            continue;
                        }
                        TransactionRecord next = Transactions.add(stored, p.id(), p.epoch(),
                                List.of(new TxnPartition(1, s.partition(), now)),
                                s.kind() == 2 ? List.of(new TxnOffset("g", "in", 2, s.partition(), now, "")) : List.of(),
                                LIMITS, now);
                        if (stored.state() == TransactionRecord.State.READY) {
                            assertThat(begun.add(identity(next))).as("a transaction identity used once").isTrue();
                        }
                        stored = next;
                    }
                    case 3 -> {
                        if (p == null) {
                            continue;
                        }
                        Transactions.Commit c = Transactions.commit(stored, p.id(), p.epoch(), now);
                        if (!c.repeated()) {
                            assertThat(stored.state()).isEqualTo(TransactionRecord.State.ONGOING);
                            assertThat(c.offsets()).isEqualTo(stored.offsets());
                            List<Long> t = identity(stored);
                            assertThat(aborted).as("committed after it was aborted").doesNotContain(t);
                            assertThat(committed.add(t)).as("committed twice").isTrue();
                        }
                        stored = c.record();
                    }
                    case 4 -> {
                        if (p == null) {
                            continue;
                        }
                        TransactionRecord next = Transactions.abort(stored, p.id(), p.epoch(), now);
                        stored = next.state() == TransactionRecord.State.PREPARE_ABORT
                                ? finishAbort(next, now, aborted, committed) : next;
                    }
                    default -> {
                        // A zombie's commit or add racing the others: as above, by whichever producer the slot holds.
                        if (p == null || stored == null) {
                            continue;
                        }
                        stored = Transactions.add(stored, p.id(), p.epoch(), List.of(), List.of(), LIMITS, now);
                    }
                }
                if (s.kind() != 0 && stored != before) {
                    assertThat(p).as("only the latest producer changes the record").isEqualTo(latest);
                }
            } catch (TransactionException refused) {
                assertThat(stored).as("a refusal changes nothing").isSameAs(before);
                if (p != null && !p.equals(latest) && stored != null) {
                    assertThat(refused.error()).isIn(TransactionError.PRODUCER_FENCED,
                            TransactionError.INVALID_PRODUCER);
                }
            }
            if (stored != null) {
                assertThat(TransactionCodec.decode(TransactionCodec.encode(stored))).isEqualTo(stored);
                assertThat(stored.partitions()).hasSizeLessThanOrEqualTo(LIMITS.maxPartitions());
            }
        }
    }

    private static TransactionRecord finishAbort(TransactionRecord preparing, long now, Set<List<Long>> aborted,
                                                 Set<List<Long>> committed) {
        List<AbortMark> marks = Transactions.abortMarks(preparing);
        List<Long> t = identity(preparing);
        for (AbortMark m : marks) {
            assertThat(List.of(m.producerId(), m.txnEpoch())).isEqualTo(t);
        }
        assertThat(committed).as("aborted after it committed").doesNotContain(t);
        aborted.add(t);
        TransactionRecord done = Transactions.abortCompleted(preparing, now);
        assertThat(done.state()).isEqualTo(TransactionRecord.State.READY);
        return done;
    }

    private static List<Long> identity(TransactionRecord r) {
        return List.of(r.txnProducerId(), r.txnEpoch());
    }

    @Property(tries = 200)
    void aCorruptOrCutRecordIsRefusedNeverGuessed(@ForAll("histories") List<Step> history) {
        TransactionRecord r = Transactions.add(Transactions.init(Optional.empty(), "tx", 1_000, LIMITS, () -> 7, 0),
                7, 0, List.of(new TxnPartition(1, 0, 3)), List.of(new TxnOffset("g", "t", 2, 0, 9, "x")), LIMITS, 1);
        byte[] bytes = TransactionCodec.encode(r);
        int cut = Math.floorMod(history.size() * 7919, bytes.length);
        byte[] shorter = java.util.Arrays.copyOf(bytes, cut);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TransactionCodec.decode(shorter))
                .isInstanceOf(IllegalArgumentException.class);
        byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 1);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TransactionCodec.decode(longer))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
