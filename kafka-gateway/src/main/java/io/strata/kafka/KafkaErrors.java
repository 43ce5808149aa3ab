package io.strata.kafka;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.ErrorReason;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.protocol.Errors;

/**
 * Strata's failures (gRPC statuses from the shared handlers) as Kafka error codes. Retriable conditions map
 * to codes Kafka clients retry (a full buffer, an unreachable store), bad input to the precise non-retriable
 * code, so a client neither gives up on what a retry fixes nor retries what never succeeds.
 */
public final class KafkaErrors {
    private KafkaErrors() {
    }

    public static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * The failure as the gRPC status it stands for where the door met it itself (its own reads of the metadata
     * store): an unreachable store is UNAVAILABLE, as the shared handlers answer it, so clients retry.
     */
    private static Throwable normalized(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof io.strata.metadata.MetadataException m) { // as the gRPC door answers it (GrpcErrors)
            return Status.UNAVAILABLE.withDescription(m.getMessage()).withCause(m).asRuntimeException();
        }
        return t;
    }

    /** The code a Produce partition gets for a failure of its records. */
    public static Errors forProduce(Throwable failure) {
        Throwable t = normalized(failure);
        if (t instanceof StatusRuntimeException s) {
            String description = s.getStatus().getDescription() == null ? "" : s.getStatus().getDescription();
            return switch (s.getStatus().getCode()) {
                case NOT_FOUND -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
                case INVALID_ARGUMENT -> description.startsWith("unknown producer id") ? Errors.UNKNOWN_PRODUCER_ID
                        : description.contains("over the limit") ? Errors.MESSAGE_TOO_LARGE
                        : description.contains("out of range") ? Errors.UNKNOWN_TOPIC_OR_PARTITION
                        : Errors.INVALID_RECORD;
                // Fenced by a newer producer of its transactional id (Kafka's producers take INVALID_PRODUCER_EPOCH
                // on Produce as fenced); a transaction that is over or never added the partition; else a gap.
                case FAILED_PRECONDITION -> forTransactionalRefusal(ErrorReason.of(s));
                case ABORTED -> Errors.UNKNOWN_PRODUCER_ID; // no state of the producer: it starts afresh
                // Stored too long ago to answer its offsets, or a sequence that wrapped at 2^31: out of order, so the
                // producer starts afresh under a new id; never DUPLICATE_SEQUENCE_NUMBER, which clients count as
                // delivered whatever the batch was.
                case ALREADY_EXISTS -> Errors.OUT_OF_ORDER_SEQUENCE_NUMBER;
                case DEADLINE_EXCEEDED -> Errors.REQUEST_TIMED_OUT;
                // A full buffer: Kafka has no such code for Produce; a timeout is retried after backoff.
                case RESOURCE_EXHAUSTED -> Errors.REQUEST_TIMED_OUT;
                case UNAVAILABLE, CANCELLED -> Errors.NOT_LEADER_OR_FOLLOWER;
                default -> Errors.UNKNOWN_SERVER_ERROR;
            };
        }
        return forOther(t);
    }

    /** The code of a Produce partition whose entry the node refused ({@code ProduceError}: code, message, reason). */
    public static Errors forProduce(int grpcCode, String message, String reason) {
        return forProduce(ErrorReason.failure(Status.fromCodeValue(grpcCode).withDescription(message), reason));
    }

    /** A FAILED_PRECONDITION of a Produce by the reason the node named (ErrorReason), not by its words. */
    private static Errors forTransactionalRefusal(String reason) {
        if (ErrorReason.PRODUCER_FENCED.equals(reason)) {
            return Errors.INVALID_PRODUCER_EPOCH;
        }
        return ErrorReason.endsTransaction(reason) ? Errors.INVALID_TXN_STATE : Errors.OUT_OF_ORDER_SEQUENCE_NUMBER;
    }

    /** The code a Fetch or ListOffsets partition gets. */
    public static Errors forRead(Throwable failure) {
        Throwable t = normalized(failure);
        if (t instanceof StatusRuntimeException s) {
            return switch (s.getStatus().getCode()) {
                case NOT_FOUND -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
                case OUT_OF_RANGE -> Errors.OFFSET_OUT_OF_RANGE;
                case INVALID_ARGUMENT -> s.getStatus().getDescription() != null
                        && s.getStatus().getDescription().contains("out of range")
                        ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.INVALID_REQUEST;
                case DEADLINE_EXCEEDED -> Errors.REQUEST_TIMED_OUT;
                case UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED, CANCELLED -> Errors.NOT_LEADER_OR_FOLLOWER;
                default -> Errors.UNKNOWN_SERVER_ERROR;
            };
        }
        return forOther(t);
    }

    /** The code a topic administration call gets. */
    public static Errors forAdmin(Throwable failure) {
        Throwable t = normalized(failure);
        if (t instanceof StatusRuntimeException s) {
            return switch (s.getStatus().getCode()) {
                case NOT_FOUND -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
                case ALREADY_EXISTS -> Errors.TOPIC_ALREADY_EXISTS;
                case INVALID_ARGUMENT -> Errors.INVALID_CONFIG;
                case DEADLINE_EXCEEDED -> Errors.REQUEST_TIMED_OUT;
                case UNAVAILABLE -> Errors.NOT_CONTROLLER;
                default -> Errors.UNKNOWN_SERVER_ERROR;
            };
        }
        return forOther(t);
    }

    public static boolean isAlreadyExists(Throwable t) {
        return t instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.ALREADY_EXISTS;
    }

    private static Errors forOther(Throwable t) {
        if (t instanceof TimeoutException) {
            return Errors.REQUEST_TIMED_OUT;
        }
        Errors kafka = Errors.forException(t);
        return kafka == Errors.UNKNOWN_SERVER_ERROR && t instanceof IllegalArgumentException
                ? Errors.INVALID_REQUEST : kafka;
    }

    /** A status for {@code failure} in one line, for logs. */
    public static String describe(Throwable failure) {
        Throwable t = unwrap(failure);
        return t instanceof StatusRuntimeException s ? s.getStatus().getCode() + ": " + s.getStatus().getDescription()
                : String.valueOf(t);
    }

    /** The gRPC status code of a failure (UNKNOWN when it carries none). */
    public static Status.Code code(Throwable failure) {
        Throwable t = unwrap(failure);
        return t instanceof StatusRuntimeException s ? s.getStatus().getCode() : Status.Code.UNKNOWN;
    }
}
