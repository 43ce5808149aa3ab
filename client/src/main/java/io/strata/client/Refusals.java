package io.strata.client;

import io.grpc.Status;
import io.strata.api.ErrorReason;

/**
 * How the client reads a node's refusal of a transaction's batch or call: by the reason the node names
 * ({@link ErrorReason}), or, from a node older than the reasons (one in a rolling upgrade) that names none, by the
 * words it has always used (docs/transactions.md).
 */
final class Refusals {
    private Refusals() {
    }

    /** Whether no retry can store the batch: its producer was fenced, or its transaction is over or lacks it. */
    static boolean endsTransaction(StrataException failure) {
        if (failure.code() != Status.Code.FAILED_PRECONDITION) {
            return false;
        }
        if (!failure.reason().isEmpty()) {
            return ErrorReason.endsTransaction(failure.reason());
        }
        String why = failure.description();
        return why.startsWith("producer fenced") || why.contains("is no longer open")
                || why.contains("was not added to the transaction") || why.contains("nothing more is written in it")
                || why.contains("is not a transaction of");
    }

    /** Whether a newer producer of the transactional id took over: this producer is done. */
    static boolean fenced(StrataException failure) {
        return failure.reason().isEmpty() ? failure.description().startsWith("producer fenced")
                : ErrorReason.PRODUCER_FENCED.equals(failure.reason());
    }
}
