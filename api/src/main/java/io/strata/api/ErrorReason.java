package io.strata.api;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Why a node refused something, as a name a program acts on: a status's description is for people, and its words
 * may change. A refused entry or request of a produce call says it in {@code ProduceError.reason}; a call that
 * fails says it in its {@code strata-reason} trailer. The names are those of the refusal's cause: a batch's
 * ({@code SEQUENCE_GAP}, {@code UNKNOWN_PRODUCER}, {@code STALE_SEQUENCE}, {@code TOPIC_DELETED},
 * {@link #PRODUCER_FENCED}, {@link #TRANSACTION_NOT_OPEN}) or a transaction's (the transaction coordinator's
 * errors: {@link #INVALID_STATE}, {@link #INVALID_PRODUCER}, {@code UNKNOWN_TRANSACTIONAL_ID}, ...).
 */
public final class ErrorReason {
    /** The trailer a failed call's reason travels in. */
    public static final Metadata.Key<String> TRAILER = Metadata.Key.of("strata-reason", Metadata.ASCII_STRING_MARSHALLER);

    /** A newer producer of the transactional id took over (or the cluster ended the transaction): this one is done. */
    public static final String PRODUCER_FENCED = "PRODUCER_FENCED";
    /** The batch's transaction ended (committed, aborted, timed out) before the batch could be stored. */
    public static final String TRANSACTION_NOT_OPEN = "TRANSACTION_NOT_OPEN";
    /** The transaction is not open for the request: over, being aborted, not the next, or the partition not added. */
    public static final String INVALID_STATE = "INVALID_STATE";
    /** The producer id or epoch is not one of the transactional id's. */
    public static final String INVALID_PRODUCER = "INVALID_PRODUCER";

    private ErrorReason() {
    }

    /** The status as a failure that carries {@code reason} in its trailer. */
    public static StatusRuntimeException failure(Status status, String reason) {
        Metadata trailers = new Metadata();
        trailers.put(TRAILER, reason);
        return status.asRuntimeException(trailers);
    }

    /** The reason a failure carries in its trailer (through wrapping exceptions); empty when none. */
    public static String of(Throwable failure) {
        Metadata trailers = failure == null ? null : Status.trailersFromThrowable(failure);
        String reason = trailers == null ? null : trailers.get(TRAILER);
        return reason == null ? "" : reason;
    }

    /**
     * Whether a transactional batch refused for {@code reason} can never be stored, however often it is sent again:
     * its producer was fenced, or its transaction is over or does not hold it (docs/transactions.md).
     */
    public static boolean endsTransaction(String reason) {
        return switch (reason) {
            case PRODUCER_FENCED, TRANSACTION_NOT_OPEN, INVALID_STATE, INVALID_PRODUCER -> true;
            default -> false;
        };
    }
}
