package io.strata.transactions;

/** A refused transactional request: nothing was changed. */
public final class TransactionException extends RuntimeException {
    private final TransactionError error;

    public TransactionException(TransactionError error, String message) {
        super(message);
        this.error = error;
    }

    public TransactionError error() {
        return error;
    }
}
