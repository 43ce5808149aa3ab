package io.strata.ingest.txn;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.transactions.TransactionException;

/**
 * The one status each refusal of the transactions module is answered with, at every door of the node, its
 * {@link io.strata.transactions.TransactionError}'s name as the reason ({@link io.strata.api.ErrorReason}).
 */
public final class TransactionStatus {
    private TransactionStatus() {
    }

    public static StatusRuntimeException of(TransactionException refused) {
        Status status = switch (refused.error()) {
            case UNKNOWN_TRANSACTIONAL_ID -> Status.NOT_FOUND;
            case PRODUCER_FENCED, INVALID_PRODUCER, INVALID_STATE, NOT_GROUP_OWNER -> Status.FAILED_PRECONDITION;
            case TOO_MANY_PARTITIONS, TOO_MANY_OFFSETS, INVALID_TIMEOUT, INVALID_ID -> Status.INVALID_ARGUMENT;
        };
        // Fencing reads the same wherever it is found (here, or at commit: "producer fenced: ...").
        String prefix = switch (refused.error()) {
            case PRODUCER_FENCED -> "producer fenced: ";
            default -> "";
        };
        // The refusal's name travels with it (ErrorReason): clients act on it, not on the words.
        return io.strata.api.ErrorReason.failure(status.withDescription(prefix + refused.getMessage()),
                refused.error().name());
    }
}
