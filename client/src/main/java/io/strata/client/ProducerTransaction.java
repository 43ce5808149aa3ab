package io.strata.client;

import io.grpc.Status;
import io.strata.api.v1.InitTransactionsResponse;
import io.strata.api.v1.TransactionDescription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A transactional producer's side of its transactions (docs/transactions.md): the producer id and epoch its
 * transactional id gave it, the transaction open now (its epoch, which its records carry, and the partitions it
 * added), and whether a batch of it failed, which leaves abort as the only way out. Used on the producer's
 * sender thread, and by the producer's begin, commit and abort between its flushes.
 */
final class ProducerTransaction {
    private final Transactions calls;
    private final String transactionalId;
    private final Duration timeout;
    private volatile long producerId;
    private volatile int producerEpoch;
    private volatile int sequenceWindow;
    /** The open transaction's epoch (the records' producer_epoch); 0 until its first partition is added. */
    private volatile long txnEpoch;
    /**
     * The epoch the next transaction will have (one more than the last one's, or the first under a new producer
     * epoch), when known; 0 when not (a transaction's beginning went unanswered): its first partitions are then
     * added by an AddPartitions call, whose answer says it.
     */
    private long nextTxnEpoch;
    /** Whether {@link #txnEpoch} was taken as the next one, and no answer has shown yet that it began. */
    private boolean claimed;
    private volatile boolean begun;
    /** Set while the open transaction is being committed or aborted: records sent then would not belong to it. */
    volatile boolean ending;
    /** Counts the transactions begun by this producer (from 1): which one a commit in flight belongs to. */
    private volatile long sequence;
    /** Whether an AddPartitions of the open transaction was sent (its answer may have been lost). */
    private boolean addSent;
    /** Whether a request of the open transaction went without its commit (it is then not written in one write). */
    private boolean sentApart;
    private volatile StrataException failed;
    /** A new producer epoch is owed (a failed transaction broke the sequences) and was not taken yet. */
    volatile boolean newEpochOwed;
    /** Counts the producer epochs taken ({@link #init}): which one a pipelined commit was sent under. */
    private long generation;
    /** Pipelined commits sent and not yet settled ({@link #pipelined}). */
    private int pipelinedCommits;

    /**
     * A transaction whose commit went with its last request and is not answered yet, while the producer goes on
     * (Producer.commitTransactionAsync): its place, epochs, and the producer epoch it was sent under.
     */
    record Pipelined(long sequence, long txnEpoch, long producerId, int producerEpoch, long generation) {
    }

    ProducerTransaction(Transactions calls, String transactionalId, Duration timeout) {
        this.calls = calls;
        this.transactionalId = transactionalId;
        this.timeout = timeout;
        init();
    }

    /**
     * Takes the transactional id's next producer epoch (sequences start again from 0 under it): at the start, and
     * after a transaction whose sequence a failed batch broke was aborted, as Kafka's producers bump their epoch.
     */
    synchronized void init() {
        InitTransactionsResponse init = calls.init(transactionalId, timeout);
        this.producerId = init.getProducerId();
        this.producerEpoch = init.getProducerEpoch();
        this.sequenceWindow = init.getSequenceWindow();
        this.nextTxnEpoch = ((long) producerEpoch << 32) | 1; // no transaction begun under the new producer epoch
        generation++;
    }

    /**
     * The open transaction's last request went, carrying its commit, and is not answered yet: the transaction is
     * no longer open, and the next one may begin (its epoch this one's plus one, its requests chained to this one's
     * on the node: docs/transactions.md, "Pipelined transactions"). Settled by {@link #pipelinedEnded}.
     */
    synchronized Pipelined pipelined() {
        if (!begun || txnEpoch == 0) {
            throw new IllegalStateException("no transaction with a known epoch is open");
        }
        Pipelined p = new Pipelined(sequence, txnEpoch, producerId, producerEpoch, generation);
        nextTxnEpoch = txnEpoch + 1;
        begun = false;
        pipelinedCommits++;
        return p;
    }

    /**
     * A pipelined commit settled: committed ({@code failure} null), or not. A transaction not committed broke the
     * producer's sequences and fails the one open after it (its requests stood on this one's commit): that one is
     * aborted, and the producer takes a new epoch before the next.
     */
    synchronized void pipelinedEnded(Pipelined p, StrataException failure) {
        pipelinedCommits--;
        notifyAll();
        if (failure == null || p.generation() != generation) {
            return; // committed, or sent under a producer epoch since replaced (which fenced it anyway)
        }
        newEpochOwed = true;
        nextTxnEpoch = 0;
        if (begun && sequence > p.sequence()) {
            failed(new StrataException(failure.code(), "the transaction before this one was not committed ("
                    + failure.description() + "): this one, which stood on it, cannot commit; abort it",
                    failure.reason()));
        }
    }

    /** What settling a pipelined commit found. */
    enum Settled { COMMITTED, NOT_COMMITTED, UNKNOWN }

    /**
     * Settles a pipelined commit whose answer did not say committed: aborts the transaction by its epoch, which
     * ends it if nothing began it, so that no request of it still on its way lands later. COMMITTED: a request that
     * carried the commit was stored before the abort reached it; UNKNOWN: the record has moved past it (a later
     * transaction of the producer, or a newer producer of the id, which fenced it): it ended, one way or the other,
     * and nothing says which. Throws when the cluster cannot be asked.
     */
    Settled settle(Pipelined p) {
        synchronized (this) {
            if (p.generation() != generation) {
                return Settled.UNKNOWN; // a newer producer epoch fenced it: it cannot land any more, or landed before
            }
        }
        TransactionDescription after;
        try {
            after = calls.end(transactionalId, p.producerId(), p.producerEpoch(), p.txnEpoch(), false);
        } catch (StrataException refused) {
            if (refused.code() != Status.Code.FAILED_PRECONDITION) {
                throw refused;
            }
            if (Refusals.fenced(refused)) {
                return Settled.UNKNOWN;
            }
            // Neither open nor the producer's next one: never begun, unless the record is past it already.
            Transactions.Description now = calls.describe(transactionalId);
            boolean past = now.producerId() != p.producerId() || now.producerEpoch() != p.producerEpoch()
                    || now.txnEpoch() > p.txnEpoch();
            return past ? Settled.UNKNOWN : Settled.NOT_COMMITTED;
        }
        boolean committed = after.getTxnEpoch() == p.txnEpoch()
                && after.getState() == io.strata.api.v1.TransactionState.TRANSACTION_STATE_READY
                && after.getLastOutcome() == io.strata.api.v1.TransactionOutcome.TRANSACTION_OUTCOME_COMMITTED;
        return committed ? Settled.COMMITTED : Settled.NOT_COMMITTED;
    }

    /**
     * Whether the open transaction, its last request carrying its commit, is one the node writes in one write and
     * so chains the producer's next transaction to: its epoch taken as the next one (no partitions or offsets added
     * by a call of their own), all of it in the request that carries the commit, and at most {@link
     * #ONE_WRITE_PARTITIONS} partitions. Otherwise the next one's batches wait for its commit to be settled.
     */
    synchronized boolean chainable(int partitions) {
        return claimed && !sentApart && partitions <= ONE_WRITE_PARTITIONS;
    }

    /** A request of the open transaction went without its commit. On the sender thread. */
    synchronized void sentApart() {
        sentApart = true;
    }

    /**
     * Partitions a transaction the node writes in one write touches at most (the node's
     * io.strata.metadata.OneWriteTransaction.MAX_PARTITIONS, which the client does not depend on).
     */
    static final int ONE_WRITE_PARTITIONS = 16;

    /** Waits until at most {@code atMost} pipelined commits are unsettled, or the timeout passes. */
    synchronized void awaitPipelined(int atMost, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (pipelinedCommits > atMost) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new StrataException(Status.Code.DEADLINE_EXCEEDED, "the transactions committed before "
                            + "were not answered within " + timeout.toMillis() + " ms");
                }
                java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StrataException(Status.Code.CANCELLED, "interrupted while waiting for earlier commits");
        }
    }

    String transactionalId() {
        return transactionalId;
    }

    long producerId() {
        return producerId;
    }

    int sequenceWindow() {
        return sequenceWindow;
    }

    long txnEpoch() {
        return txnEpoch;
    }

    boolean begun() {
        return begun;
    }

    /** The open (or last) transaction's place among those this producer began, from 1. */
    long sequence() {
        return sequence;
    }

    /** A new transaction: nothing added, nothing failed (the producer's sequences go on). */
    synchronized void begin() {
        if (begun) {
            throw new IllegalStateException("a transaction is open already: commit or abort it first");
        }
        begun = true;
        sequence++;
        addSent = false;
        sentApart = false;
        claimed = false;
        txnEpoch = 0;
        failed = null;
    }

    /**
     * Readies the open transaction for batches of {@code partitions} (on the sender thread, before they go). Their
     * requests add their own partitions (ProduceRequest.add_partitions, beginning the transaction), so no call is
     * made here while the transaction's epoch is known; otherwise the partitions are added by an AddPartitions
     * call, whose answer tells the epoch.
     *
     * @throws StrataException when the coordinator refuses (fenced, timed out) or cannot be reached
     */
    synchronized void ensureAdded(List<RecordAccumulator.TopicPartition> partitions) {
        if (!begun) {
            throw new StrataException(Status.Code.FAILED_PRECONDITION, "records of a transactional producer are sent "
                    + "inside a transaction: call beginTransaction first");
        }
        if (txnEpoch != 0) {
            return;
        }
        if (nextTxnEpoch != 0) {
            txnEpoch = nextTxnEpoch;
            claimed = true;
            addSent = true;
            return;
        }
        List<RecordAccumulator.TopicPartition> missing = new ArrayList<>();
        for (RecordAccumulator.TopicPartition tp : partitions) {
            if (!missing.contains(tp)) {
                missing.add(tp);
            }
        }
        addSent = true;
        TransactionDescription after = calls.addPartitions(transactionalId, producerId, producerEpoch, missing);
        txnEpoch = after.getTxnEpoch();
    }

    /** Adds a group member's positions to the open transaction, to commit with it. */
    synchronized void addOffsets(Consumer.TransactionPositions positions) {
        if (!begun) {
            throw new IllegalStateException("no transaction is open: call beginTransaction first");
        }
        addSent = true;
        TransactionDescription after;
        try {
            after = calls.addOffsets(transactionalId, producerId, producerEpoch, positions);
        } catch (StrataException refused) {
            failed(refused); // committing the output without the positions would read the input again
            throw refused;
        }
        txnEpoch = after.getTxnEpoch(); // begun, as the answer shows (the one batches named, or begun for them)
        claimed = false;
    }

    /** Whether a batch of the open transaction failed (it can then only be aborted). */
    boolean hasFailed() {
        return failed != null;
    }

    /** A batch of the transaction failed for good: it can only be aborted now. */
    void failed(StrataException failure) {
        if (failed == null) {
            failed = failure;
        }
    }

    /**
     * Commits (or aborts) the open transaction; a transaction that added nothing ends without a call. Answers whether
     * a batch of it failed (its sequences are broken: the producer takes a new epoch before the next one).
     */
    synchronized boolean end(boolean commit) {
        return end(commit, false);
    }

    /**
     * As {@link #end(boolean)}; {@code committedAlready}: its last request carried the commit and was answered
     * committed (ProduceRequest.commit_transaction), so no EndTransaction call is made.
     */
    synchronized boolean end(boolean commit, boolean committedAlready) {
        if (!begun) {
            throw new IllegalStateException("no transaction is open: call beginTransaction first");
        }
        StrataException failure = failed;
        if (commit && committedAlready && txnEpoch != 0) {
            // Its last request carried the commit and was answered committed: every batch of it was stored.
            nextTxnEpoch = txnEpoch + 1;
            begun = false;
            return failure != null;
        }
        if (commit && failure != null) {
            throw new StrataException(failure.code(), "the transaction cannot commit: a batch of it failed ("
                    + failure.getMessage() + "); abort it", failure.reason());
        }
        // A transaction whose epoch was taken as the next one began if every batch of it was stored (each request
        // began it or found it begun); with one failed, it may not have.
        boolean uncertain = claimed && failure != null;
        TransactionDescription after = null;
        if (txnEpoch != 0 && !uncertain) {
            after = calls.end(transactionalId, producerId, producerEpoch, txnEpoch, commit);
            if (commit && after.getLastOutcome() != io.strata.api.v1.TransactionOutcome.TRANSACTION_OUTCOME_COMMITTED) {
                throw new StrataException(Status.Code.FAILED_PRECONDITION, "the transaction was not committed: it "
                        + "was " + after.getLastOutcome());
            }
            nextTxnEpoch = txnEpoch + 1;
        } else if (addSent && !commit) {
            // A request whose answer was lost may have begun the transaction on the cluster (or, carrying its
            // commit, committed it): it is aborted by its epoch, so the answer says which; one never begun is
            // refused (FAILED_PRECONDITION), as is, named 0 after an AddPartitions answer lost, none open.
            try {
                after = calls.end(transactionalId, producerId, producerEpoch, txnEpoch, false);
            } catch (StrataException none) {
                if (none.code() != Status.Code.FAILED_PRECONDITION || Refusals.fenced(none)) {
                    throw none;
                }
            }
            nextTxnEpoch = 0; // whether it began is unknown: the next transaction asks
        }
        begun = false;
        if (!commit && after != null && txnEpoch != 0 && after.getTxnEpoch() == txnEpoch
                && after.getState() == io.strata.api.v1.TransactionState.TRANSACTION_STATE_READY
                && after.getLastOutcome() == io.strata.api.v1.TransactionOutcome.TRANSACTION_OUTCOME_COMMITTED) {
            // A request that carried the commit was stored before this abort reached the transaction.
            newEpochOwed |= failure != null;
            throw new StrataException(Status.Code.FAILED_PRECONDITION, "the transaction was committed before the "
                    + "abort reached it (its last request carried the commit and was stored): its records are read "
                    + "committed");
        }
        return failure != null;
    }
}
