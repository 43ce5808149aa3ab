package io.strata.transactions;

/** Why a transactional producer's request was refused; each maps to one precise status at every door. */
public enum TransactionError {
    /** No producer was ever initialised with this transactional id (or it was forgotten). */
    UNKNOWN_TRANSACTIONAL_ID,
    /** A newer producer with the same transactional id took over, or the transaction timed out: this one is done. */
    PRODUCER_FENCED,
    /** The producer id or epoch is not the transactional id's (never issued for it). */
    INVALID_PRODUCER,
    /** The request does not fit the transaction's state (ending one never begun, committing one being aborted). */
    INVALID_STATE,
    /** The transaction would touch more partitions than a transaction may. */
    TOO_MANY_PARTITIONS,
    /** The transaction would commit more group offsets than a transaction may. */
    TOO_MANY_OFFSETS,
    /** The transaction timeout asked for is not between 1 ms and the cluster's maximum. */
    INVALID_TIMEOUT,
    /** The transactional id is empty, too long, or holds control characters. */
    INVALID_ID,
    /**
     * Group offsets in a transaction from a member that does not own the partitions (any more): when adding them,
     * nothing changes; when committing, the transaction is aborted instead (a zombie's output never commits).
     */
    NOT_GROUP_OWNER
}
