package io.strata.transactions;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * What a transaction coordinator decides, as pure functions of a transactional id's stored record: each answers the
 * record to store next (with compare-and-set on the one it was given), or throws {@link TransactionException} with
 * nothing changed. Where the record goes and how a decision becomes visible to readers is docs/transactions.md.
 *
 * <p>A commit is one write (the record, and the group offsets it carries, in one metadata transaction). An abort
 * is decided first ({@link TransactionRecord.State#PREPARE_ABORT}), then each partition is marked
 * ({@link #abortMarks}), then it is done ({@link #abortCompleted}): marks may take several writes, and whoever
 * finds an abort prepared finishes it, so a crash between the steps never leaves a transaction half aborted, and
 * never lets it commit instead.
 */
public final class Transactions {
    /** The longest a transactional id may be (as Kafka's). */
    public static final int MAX_ID_LENGTH = 249;

    /** A cluster's bounds on transactions. */
    public record Limits(long maxTimeoutMs, int maxPartitions, int maxOffsets) {
        public Limits {
            if (maxTimeoutMs <= 0 || maxPartitions <= 0 || maxOffsets <= 0) {
                throw new IllegalArgumentException("limits are positive");
            }
        }
    }

    /** How long a transactional id with no transaction open is kept unused (Kafka's transactional.id.expiration.ms). */
    public static final long DEFAULT_ID_EXPIRY_MS = 7L * 24 * 60 * 60 * 1000;

    /** Kafka's bound on the timeout (transaction.max.timeout.ms); partitions and offsets bounded per transaction. */
    public static final Limits DEFAULT_LIMITS = new Limits(15 * 60_000L, 1_000, 100);

    /** A commit: the record to store, and the group offsets to write with it (none for a repeated commit). */
    public record Commit(TransactionRecord record, List<TxnOffset> offsets, boolean repeated) {
    }

    private Transactions() {
    }

    /** Whether a producer could be given the id: 1 to {@link #MAX_ID_LENGTH} characters, none of them control characters. */
    public static boolean validId(String transactionalId) {
        return transactionalId != null && !transactionalId.isEmpty() && transactionalId.length() <= MAX_ID_LENGTH
                && transactionalId.chars().noneMatch(Character::isISOControl);
    }

    /** Refuses an id that is empty, longer than {@link #MAX_ID_LENGTH}, or holds control characters. */
    public static void checkId(String transactionalId) {
        if (!validId(transactionalId)) {
            throw new TransactionException(TransactionError.INVALID_ID, "a transactional id is 1 to "
                    + MAX_ID_LENGTH + " characters, none of them control characters");
        }
    }

    /**
     * A producer initialised with the transactional id: the id's next producer epoch (a new producer id for an
     * id never seen, or whose epochs are used up), which fences every producer before it. A transaction left open
     * is aborted: the answer is then {@link TransactionRecord.State#PREPARE_ABORT}, and the producer may use the
     * record once {@link #abortCompleted} made it ready.
     */
    public static TransactionRecord init(Optional<TransactionRecord> current, String transactionalId, long timeoutMs,
                                         Limits limits, LongSupplier newProducerId, long nowMs) {
        return init(current, transactionalId, timeoutMs, limits, id -> true, newProducerId, nowMs);
    }

    /**
     * As {@link #init(Optional, String, long, Limits, LongSupplier, long)}, the stored producer id kept only when
     * {@code callersOwn} says the caller may have it (where producer ids are bound to the principal they were issued
     * to, one initialised by another principal is not handed over: the id gets a new producer, which fences the
     * old one all the same).
     */
    public static TransactionRecord init(Optional<TransactionRecord> current, String transactionalId, long timeoutMs,
                                         Limits limits, java.util.function.LongPredicate callersOwn,
                                         LongSupplier newProducerId, long nowMs) {
        checkId(transactionalId);
        if (timeoutMs <= 0 || timeoutMs > limits.maxTimeoutMs()) {
            throw new TransactionException(TransactionError.INVALID_TIMEOUT, "a transaction timeout is 1 ms to "
                    + limits.maxTimeoutMs() + " ms, not " + timeoutMs);
        }
        if (current.isEmpty()) {
            long pid = newProducerId.getAsLong();
            return new TransactionRecord(transactionalId, pid, 0, 0, pid, 0, TransactionRecord.State.READY,
                    timeoutMs, 0, List.of(), List.of(), TransactionRecord.Outcome.NONE, nowMs);
        }
        TransactionRecord r = current.get();
        boolean fresh = needsNewProducerId(current, callersOwn);
        long pid = fresh ? newProducerId.getAsLong() : r.producerId();
        int epoch = fresh ? 0 : r.producerEpoch() + 1;
        if (r.state() == TransactionRecord.State.READY) {
            return new TransactionRecord(transactionalId, pid, epoch, 0, r.txnProducerId(), r.txnEpoch(),
                    TransactionRecord.State.READY, timeoutMs, 0, List.of(), List.of(), r.lastOutcome(), nowMs);
        }
        // Open (or its abort left unfinished): aborted, under the new producer's epoch, so the old one is fenced
        // from the moment this is stored.
        return new TransactionRecord(transactionalId, pid, epoch, 0, r.txnProducerId(), r.txnEpoch(),
                TransactionRecord.State.PREPARE_ABORT, timeoutMs, r.startedAtMs(), r.partitions(), r.offsets(),
                r.lastOutcome(), nowMs);
    }

    /**
     * Whether {@link #init} of the id stored as {@code current} takes a new producer id: for an id never seen, one
     * whose epochs are used up (an epoch is issued only below the top one, so that a timeout can always fence its
     * producer with the next), and one whose producer id the caller may not have ({@code callersOwn}).
     */
    public static boolean needsNewProducerId(Optional<TransactionRecord> current,
                                             java.util.function.LongPredicate callersOwn) {
        return current.isEmpty() || current.get().producerEpoch() >= TransactionRecord.MAX_PRODUCER_EPOCH - 1
                || !callersOwn.test(current.get().producerId());
    }

    /**
     * Partitions the producer is about to write to, and group offsets to commit with the transaction; either may
     * be empty (both: nothing changes). Begins a transaction when none is open. A partition already in the transaction keeps its start,
     * and an offset given again for the same group and partition replaces the earlier one.
     */
    public static TransactionRecord add(TransactionRecord current, long producerId, int producerEpoch,
                                        List<TxnPartition> partitions, List<TxnOffset> offsets, Limits limits,
                                        long nowMs) {
        TransactionRecord r = checkProducer(current, producerId, producerEpoch);
        if (r.state() == TransactionRecord.State.PREPARE_ABORT) {
            throw new TransactionException(TransactionError.INVALID_STATE, "transaction of " + r.transactionalId()
                    + " is being aborted; begin the next one once it is");
        }
        if (partitions.isEmpty() && offsets.isEmpty()) {
            return r; // nothing to add: a check that the producer is still the id's, and no transaction begun
        }
        boolean begin = r.state() == TransactionRecord.State.READY;
        List<TxnPartition> touched = new ArrayList<>(begin ? List.of() : r.partitions());
        for (TxnPartition p : partitions) {
            if (touched.stream().noneMatch(p::samePartition)) {
                touched.add(p);
            }
        }
        if (touched.size() > limits.maxPartitions()) {
            throw new TransactionException(TransactionError.TOO_MANY_PARTITIONS, "a transaction writes to at most "
                    + limits.maxPartitions() + " partitions; this one would write to " + touched.size());
        }
        List<TxnOffset> committing = new ArrayList<>(begin ? List.of() : r.offsets());
        for (TxnOffset o : offsets) {
            committing.removeIf(o::samePosition);
            committing.add(o);
        }
        if (committing.size() > limits.maxOffsets()) {
            throw new TransactionException(TransactionError.TOO_MANY_OFFSETS, "a transaction commits at most "
                    + limits.maxOffsets() + " group offsets; this one would commit " + committing.size());
        }
        if (begin) {
            int n = r.transactions() + 1;
            return new TransactionRecord(r.transactionalId(), r.producerId(), r.producerEpoch(), n, r.producerId(),
                    TransactionRecord.txnEpoch(r.producerEpoch(), n), TransactionRecord.State.ONGOING, r.timeoutMs(),
                    nowMs, touched, committing, r.lastOutcome(), nowMs);
        }
        return new TransactionRecord(r.transactionalId(), r.producerId(), r.producerEpoch(), r.transactions(),
                r.txnProducerId(), r.txnEpoch(), r.state(), r.timeoutMs(), r.startedAtMs(), touched, committing,
                r.lastOutcome(), nowMs);
    }

    /**
     * Partitions added by the batches that write to them (as Kafka's KIP-890 does): {@link #add} of the transaction
     * the batches name by its epoch, which begins it when it is the producer's next one. So a producer that knows
     * its next transaction's epoch (the one after its last, or the first under a new producer epoch) needs no
     * AddPartitions call before its records. Refused with nothing changed when that transaction ended, or is not
     * the next to begin: {@code txnEpoch} names one transaction, never a later one.
     */
    public static TransactionRecord addNamed(TransactionRecord current, long producerId, long txnEpoch,
                                             List<TxnPartition> partitions, Limits limits, long nowMs) {
        TransactionRecord r = checkProducer(current, producerId, (int) (txnEpoch >>> 32));
        boolean open = r.state() == TransactionRecord.State.ONGOING && r.txnEpoch() == txnEpoch
                && r.txnProducerId() == producerId;
        boolean next = r.state() == TransactionRecord.State.READY
                && TransactionRecord.txnEpoch(r.producerEpoch(), r.transactions() + 1) == txnEpoch;
        if (!open && !next) {
            throw new TransactionException(TransactionError.INVALID_STATE, "transaction epoch " + txnEpoch + " of "
                    + r.transactionalId() + " is not open and not the next to begin (its latest is " + r.txnEpoch()
                    + ", " + r.state() + "): nothing more is written in it");
        }
        if (open && partitions.stream().allMatch(p -> r.partitions().stream().anyMatch(p::samePartition))) {
            return r; // all there: nothing to store (a batch's check must not cost a write)
        }
        return add(r, producerId, r.producerEpoch(), partitions, List.of(), limits, nowMs);
    }

    /**
     * A transaction that one request holds whole (its records, all of them, and its commit), begun and committed in
     * the one metadata write that stores its records (docs/transactions.md, "A transaction in one write"): the
     * record as committed, or null when the request cannot be one (the transaction it names is not the producer's
     * next one: already open, ended, or not its own; or it would write to more partitions than a transaction may),
     * in which case it takes the two-step path ({@link #addNamed}, then {@link #commit}), which answers any refusal.
     */
    public static TransactionRecord commitInOneWrite(TransactionRecord current, long producerId, long txnEpoch,
                                                     int partitions, Limits limits, long nowMs) {
        if (current == null || current.producerId() != producerId
                || current.producerEpoch() != (int) (txnEpoch >>> 32)
                || current.state() != TransactionRecord.State.READY
                || TransactionRecord.txnEpoch(current.producerEpoch(), current.transactions() + 1) != txnEpoch
                || partitions <= 0 || partitions > limits.maxPartitions()) {
            return null;
        }
        int n = current.transactions() + 1;
        return new TransactionRecord(current.transactionalId(), current.producerId(), current.producerEpoch(), n,
                current.producerId(), txnEpoch, TransactionRecord.State.READY, current.timeoutMs(), 0, List.of(),
                List.of(), TransactionRecord.Outcome.COMMITTED, nowMs);
    }

    /**
     * Commits the open transaction: its records become visible to read-committed readers and its group offsets
     * are written, together. Asked again after it committed (the answer was lost), it answers the same without
     * writing anything.
     */
    public static Commit commit(TransactionRecord current, long producerId, int producerEpoch, long nowMs) {
        TransactionRecord r = checkProducer(current, producerId, producerEpoch);
        switch (r.state()) {
            case ONGOING:
                return new Commit(ready(r, TransactionRecord.Outcome.COMMITTED, nowMs), r.offsets(), false);
            case READY:
                if (r.lastOutcome() == TransactionRecord.Outcome.COMMITTED && r.transactions() > 0) {
                    return new Commit(r, List.of(), true);
                }
                throw new TransactionException(TransactionError.INVALID_STATE, "no transaction of "
                        + r.transactionalId() + " is open to commit" + (r.lastOutcome()
                        == TransactionRecord.Outcome.ABORTED && r.transactions() > 0 ? " (the last one was aborted)"
                        : ""));
            default:
                throw new TransactionException(TransactionError.INVALID_STATE, "transaction of "
                        + r.transactionalId() + " is being aborted: it cannot commit");
        }
    }

    /**
     * Aborts the open transaction: the answer is {@link TransactionRecord.State#PREPARE_ABORT} (mark its
     * partitions, then {@link #abortCompleted}). An abort asked again is answered as it stands.
     */
    /** A transaction of the producer, begun with nothing in it when none is open; the open one otherwise. */
    public static TransactionRecord begin(TransactionRecord current, long producerId, int producerEpoch, long nowMs) {
        TransactionRecord r = checkProducer(current, producerId, producerEpoch);
        if (r.state() == TransactionRecord.State.PREPARE_ABORT) {
            throw new TransactionException(TransactionError.INVALID_STATE, "transaction of " + r.transactionalId()
                    + " is being aborted; begin the next one once it is");
        }
        if (r.state() == TransactionRecord.State.ONGOING) {
            return r;
        }
        int n = r.transactions() + 1;
        return new TransactionRecord(r.transactionalId(), r.producerId(), r.producerEpoch(), n, r.producerId(),
                TransactionRecord.txnEpoch(r.producerEpoch(), n), TransactionRecord.State.ONGOING, r.timeoutMs(),
                nowMs, List.of(), List.of(), r.lastOutcome(), nowMs);
    }

    /**
     * {@link #commit(TransactionRecord, long, int, long)} of the transaction the producer names by its epoch
     * ({@code txnEpoch}; 0: whichever is open). A request that outlived its transaction (sent again after a lost
     * answer, while the producer began the next one) never commits the next one.
     */
    public static Commit commit(TransactionRecord current, long producerId, int producerEpoch, long txnEpoch,
                                long nowMs) {
        TransactionRecord r = checkNamed(current, producerId, producerEpoch, txnEpoch);
        if (txnEpoch != 0 && r.state() == TransactionRecord.State.READY
                && r.lastOutcome() == TransactionRecord.Outcome.COMMITTED) {
            return new Commit(r, List.of(), true);
        }
        return commit(current, producerId, producerEpoch, nowMs);
    }

    /**
     * {@link #abort(TransactionRecord, long, int, long)} of the transaction the producer names by its epoch (0:
     * whichever is open). One that ended already, either way, is answered as it stands: its outcome says which.
     */
    public static TransactionRecord abort(TransactionRecord current, long producerId, int producerEpoch, long txnEpoch,
                                          long nowMs) {
        TransactionRecord named = checkProducer(current, producerId, producerEpoch);
        if (txnEpoch != 0 && named.state() == TransactionRecord.State.READY && named.producerId() == producerId
                && TransactionRecord.txnEpoch(named.producerEpoch(), named.transactions() + 1) == txnEpoch) {
            // The next transaction, named before anything began it: its request, sent whole with its commit (one
            // write), may still be on its way. Ending it here, aborted, moves the record that write is guarded by,
            // so it can no longer be stored: the answer holds.
            return new TransactionRecord(named.transactionalId(), named.producerId(), named.producerEpoch(),
                    named.transactions() + 1, named.producerId(), txnEpoch, TransactionRecord.State.READY,
                    named.timeoutMs(), 0, List.of(), List.of(), TransactionRecord.Outcome.ABORTED, nowMs);
        }
        TransactionRecord r = checkNamed(current, producerId, producerEpoch, txnEpoch);
        if (txnEpoch != 0 && r.state() == TransactionRecord.State.READY) {
            return r;
        }
        return abort(current, producerId, producerEpoch, nowMs);
    }

    private static TransactionRecord checkNamed(TransactionRecord current, long producerId, int producerEpoch,
                                                long txnEpoch) {
        TransactionRecord r = checkProducer(current, producerId, producerEpoch);
        if (txnEpoch != 0 && r.txnEpoch() != txnEpoch) {
            throw new TransactionException(TransactionError.INVALID_STATE, "transaction epoch " + txnEpoch + " of "
                    + r.transactionalId() + " is not its latest (" + r.txnEpoch() + "): it ended before");
        }
        return r;
    }

    public static TransactionRecord abort(TransactionRecord current, long producerId, int producerEpoch, long nowMs) {
        TransactionRecord r = checkProducer(current, producerId, producerEpoch);
        switch (r.state()) {
            case ONGOING:
                return new TransactionRecord(r.transactionalId(), r.producerId(), r.producerEpoch(), r.transactions(),
                        r.txnProducerId(), r.txnEpoch(), TransactionRecord.State.PREPARE_ABORT, r.timeoutMs(),
                        r.startedAtMs(), r.partitions(), r.offsets(), r.lastOutcome(), nowMs);
            case PREPARE_ABORT:
                return r;
            default:
                if (r.lastOutcome() == TransactionRecord.Outcome.ABORTED && r.transactions() > 0) {
                    return r;
                }
                throw new TransactionException(TransactionError.INVALID_STATE, "no transaction of "
                        + r.transactionalId() + " is open to abort" + (r.lastOutcome()
                        == TransactionRecord.Outcome.COMMITTED && r.transactions() > 0 ? " (the last one committed)"
                        : ""));
        }
    }

    /** The marks an abort being prepared leaves, one per partition it may have written to. */
    public static List<AbortMark> abortMarks(TransactionRecord preparing) {
        if (preparing.state() != TransactionRecord.State.PREPARE_ABORT) {
            throw new IllegalArgumentException("no abort prepared for " + preparing.transactionalId());
        }
        return preparing.partitions().stream().map(p -> new AbortMark(p.topicId(), p.partition(),
                preparing.txnProducerId(), preparing.txnEpoch(), p.startOffset())).toList();
    }

    /** An abort whose partitions are all marked: done, and the producer ready for its next transaction. */
    public static TransactionRecord abortCompleted(TransactionRecord preparing, long nowMs) {
        if (preparing.state() != TransactionRecord.State.PREPARE_ABORT) {
            throw new IllegalArgumentException("no abort prepared for " + preparing.transactionalId());
        }
        return ready(preparing, TransactionRecord.Outcome.ABORTED, nowMs);
    }

    /**
     * The cluster's decision for a transaction open past its timeout: aborted, and its producer fenced (a later
     * commit of it is refused as fenced, not lost in silence). Empty while it has time left, or none is open.
     */
    public static Optional<TransactionRecord> expire(TransactionRecord current, long nowMs) {
        if (current.state() != TransactionRecord.State.ONGOING || nowMs < current.deadlineMs()) {
            return Optional.empty();
        }
        return Optional.of(fence(current, nowMs));
    }

    /**
     * Aborts the open transaction now and fences its producer, whatever time it has left (an operator's abort, or
     * a timeout). The record is answered as it stands when no transaction is open. No producer holds the epoch
     * this moves to (producers are only ever issued epochs below it), so none begins a transaction under it: the
     * next producer initialised with the id gets the epoch after.
     */
    public static TransactionRecord fence(TransactionRecord current, long nowMs) {
        if (current.state() != TransactionRecord.State.ONGOING) {
            return current;
        }
        return new TransactionRecord(current.transactionalId(), current.producerId(), current.producerEpoch() + 1, 0,
                current.txnProducerId(), current.txnEpoch(), TransactionRecord.State.PREPARE_ABORT,
                current.timeoutMs(), current.startedAtMs(), current.partitions(), current.offsets(),
                current.lastOutcome(), nowMs);
    }

    /**
     * Why a batch of {@code producerId} at transaction epoch {@code txnEpoch} may not be written to the partition, or
     * null when it may: only while that very transaction is open and has the partition added, so that every record
     * of a transaction lies where its partitions' start holds read-committed readers back (and where an abort marks
     * it).
     */
    public static TransactionException refusesBatch(TransactionRecord current, long producerId, long txnEpoch,
                                                    long topicId, int partition) {
        if (current == null) {
            return new TransactionException(TransactionError.UNKNOWN_TRANSACTIONAL_ID, "no producer was initialised "
                    + "with this transactional id");
        }
        boolean ours = producerId == current.txnProducerId() || producerId == current.producerId();
        if (!ours || txnEpoch > current.txnEpoch()) {
            return new TransactionException(TransactionError.INVALID_PRODUCER, "producer " + producerId + " epoch "
                    + txnEpoch + " is not a transaction of transactional id " + current.transactionalId());
        }
        if (producerId != current.txnProducerId() || txnEpoch < current.txnEpoch()
                || (int) (txnEpoch >>> 32) < current.producerEpoch()) {
            return fenced(current); // an earlier transaction, or a producer a newer one replaced
        }
        if (current.state() != TransactionRecord.State.ONGOING) {
            return new TransactionException(TransactionError.INVALID_STATE, "the transaction of "
                    + current.transactionalId() + " at epoch " + txnEpoch + " is " + (current.state()
                    == TransactionRecord.State.PREPARE_ABORT ? "being aborted" : "over") + ": nothing more is "
                    + "written in it");
        }
        if (current.partitions().stream().noneMatch(p -> p.topicId() == topicId && p.partition() == partition)) {
            return new TransactionException(TransactionError.INVALID_STATE, "partition " + partition + " of topic id "
                    + topicId + " was not added to the transaction of " + current.transactionalId()
                    + ": add it before writing to it");
        }
        return null;
    }

    /**
     * Whether the id may be forgotten: no transaction open or being aborted, and nothing done with it for
     * {@code expiryMs}. A producer that comes back after that starts afresh (a new producer id), as in Kafka.
     */
    public static boolean idle(TransactionRecord current, long nowMs, long expiryMs) {
        return current.state() == TransactionRecord.State.READY && nowMs - current.updatedAtMs() >= expiryMs;
    }

    private static TransactionRecord ready(TransactionRecord r, TransactionRecord.Outcome outcome, long nowMs) {
        return new TransactionRecord(r.transactionalId(), r.producerId(), r.producerEpoch(), r.transactions(),
                r.txnProducerId(), r.txnEpoch(), TransactionRecord.State.READY, r.timeoutMs(), 0, List.of(),
                List.of(), outcome, nowMs);
    }

    private static TransactionRecord checkProducer(TransactionRecord current, long producerId, int producerEpoch) {
        if (current == null) {
            throw new TransactionException(TransactionError.UNKNOWN_TRANSACTIONAL_ID, "no producer was initialised "
                    + "with this transactional id");
        }
        if (producerId != current.producerId() || producerEpoch > current.producerEpoch()) {
            // An older producer id of the id is one whose epochs ran out: fenced as surely as an older epoch.
            if (producerId != current.producerId() && producerId == current.txnProducerId()) {
                throw fenced(current);
            }
            throw new TransactionException(TransactionError.INVALID_PRODUCER, "producer " + producerId + " epoch "
                    + producerEpoch + " was not issued for transactional id " + current.transactionalId());
        }
        if (producerEpoch < current.producerEpoch()) {
            throw fenced(current);
        }
        return current;
    }

    private static TransactionException fenced(TransactionRecord current) {
        return new TransactionException(TransactionError.PRODUCER_FENCED, "a newer producer with transactional id "
                + current.transactionalId() + " took over (or its transaction timed out): this one is fenced");
    }
}
