package io.strata.client;

import io.grpc.Status;
import io.strata.api.v1.InitTransactionsResponse;
import io.strata.api.v1.TransactionDescription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

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
    private volatile boolean begun;
    /** Whether an AddPartitions of the open transaction was sent (its answer may have been lost). */
    private boolean addSent;
    private final Set<RecordAccumulator.TopicPartition> added = new HashSet<>();
    private volatile StrataException failed;
    /** A new producer epoch is owed (a failed transaction broke the sequences) and was not taken yet. */
    volatile boolean newEpochOwed;

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

    /** A new transaction: nothing added, nothing failed (the producer's sequences go on). */
    synchronized void begin() {
        if (begun) {
            throw new IllegalStateException("a transaction is open already: commit or abort it first");
        }
        begun = true;
        addSent = false;
        txnEpoch = 0;
        added.clear();
        failed = null;
    }

    /**
     * Adds the partitions the open transaction has not added yet (on the sender thread, before their batches go).
     *
     * @throws StrataException when the coordinator refuses (fenced, timed out) or cannot be reached
     */
    synchronized void ensureAdded(List<RecordAccumulator.TopicPartition> partitions) {
        if (!begun) {
            throw new StrataException(Status.Code.FAILED_PRECONDITION, "records of a transactional producer are sent "
                    + "inside a transaction: call beginTransaction first");
        }
        List<RecordAccumulator.TopicPartition> missing = new ArrayList<>();
        for (RecordAccumulator.TopicPartition tp : partitions) {
            if (!added.contains(tp) && !missing.contains(tp)) {
                missing.add(tp);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        addSent = true;
        TransactionDescription after = calls.addPartitions(transactionalId, producerId, producerEpoch, missing);
        txnEpoch = after.getTxnEpoch();
        added.addAll(missing);
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
        txnEpoch = after.getTxnEpoch();
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
        if (!begun) {
            throw new IllegalStateException("no transaction is open: call beginTransaction first");
        }
        StrataException failure = failed;
        if (commit && failure != null) {
            throw new StrataException(failure.code(), "the transaction cannot commit: a batch of it failed ("
                    + failure.getMessage() + "); abort it");
        }
        if (txnEpoch != 0) {
            TransactionDescription after = calls.end(transactionalId, producerId, producerEpoch, txnEpoch, commit);
            if (commit && after.getLastOutcome() != io.strata.api.v1.TransactionOutcome.TRANSACTION_OUTCOME_COMMITTED) {
                throw new StrataException(Status.Code.FAILED_PRECONDITION, "the transaction was not committed: it "
                        + "was " + after.getLastOutcome());
            }
        } else if (addSent && !commit) {
            // An add whose answer was lost may have begun the transaction on the cluster: abort it there too, or
            // it would hold read-committed readers back until its timeout. None begun is no open transaction.
            try {
                calls.end(transactionalId, producerId, producerEpoch, 0, false);
            } catch (StrataException none) {
                if (none.code() != Status.Code.FAILED_PRECONDITION || none.description().startsWith("producer fenced")) {
                    throw none;
                }
            }
        }
        begun = false;
        return failure != null;
    }
}
