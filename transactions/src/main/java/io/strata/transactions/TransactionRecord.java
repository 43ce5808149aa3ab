package io.strata.transactions;

import java.util.List;
import java.util.Objects;

/**
 * A transactional id's producer and the transaction open on it, as stored (one metadata value per transactional id:
 * docs/transactions.md). Immutable; {@link Transactions} decides every change.
 *
 * @param producerId     the id the producer's records carry, kept across its transactions
 * @param producerEpoch  raised by every producer initialised with the id (and by a timeout): requests with an older
 *                       one are fenced
 * @param transactions   transactions begun under this producer epoch
 * @param txnProducerId  the producer id the records of the open (or last) transaction carry: the producer id when
 *                       it began (the id may have moved to a new producer id since, its epochs used up)
 * @param txnEpoch       the epoch those records carry in the data path: {@code producerEpoch << 32 |
 *                       transactions} when it began, so it grows with every transaction and every new producer,
 *                       and with {@code txnProducerId} names one transaction
 * @param timeoutMs      how long a transaction may stay open before the cluster aborts it
 * @param startedAtMs    when the open transaction began (0 when none is open)
 * @param partitions     the partitions the open (or aborting) transaction may have written to
 * @param offsets        the group offsets it commits when it commits
 * @param lastOutcome    how the last transaction ended (answers a repeated commit or abort)
 */
public record TransactionRecord(String transactionalId, long producerId, int producerEpoch, int transactions,
                                long txnProducerId, long txnEpoch, State state, long timeoutMs, long startedAtMs,
                                List<TxnPartition> partitions, List<TxnOffset> offsets, Outcome lastOutcome,
                                long updatedAtMs) {
    /** The highest producer epoch (Kafka's producer epochs are 16-bit); past it, the id gets a new producer id. */
    public static final int MAX_PRODUCER_EPOCH = Short.MAX_VALUE - 1;

    public enum State {
        /** No transaction open: the next record or offset sent begins one. */
        READY,
        /** A transaction is open. */
        ONGOING,
        /**
         * Its abort is decided and being written down (each partition marked); nothing else may happen to it until
         * that is done, by whoever gets to it first (the producer, a new producer, the timeout).
         */
        PREPARE_ABORT
    }

    public enum Outcome {
        NONE, COMMITTED, ABORTED
    }

    public TransactionRecord {
        Objects.requireNonNull(transactionalId, "transactionalId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(lastOutcome, "lastOutcome");
        partitions = List.copyOf(partitions);
        offsets = List.copyOf(offsets);
        if (producerEpoch < 0 || producerEpoch > MAX_PRODUCER_EPOCH || transactions < 0 || timeoutMs <= 0) {
            throw new IllegalArgumentException("producer epoch " + producerEpoch + ", transactions " + transactions
                    + " and timeout " + timeoutMs + " out of range");
        }
        if (state == State.READY && (!partitions.isEmpty() || !offsets.isEmpty())) {
            throw new IllegalArgumentException("a transactional id with no transaction open holds no partitions "
                    + "or offsets");
        }
    }

    /** The data-path epoch of the {@code n}th transaction under producer epoch {@code producerEpoch}. */
    public static long txnEpoch(int producerEpoch, int n) {
        return ((long) producerEpoch << 32) | (n & 0xffffffffL);
    }

    /** When the open transaction times out (Long.MAX_VALUE when none is open). */
    public long deadlineMs() {
        return state == State.ONGOING ? startedAtMs + timeoutMs : Long.MAX_VALUE;
    }
}
