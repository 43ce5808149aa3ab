package io.strata.client;

import io.grpc.Status;
import java.util.Set;

/**
 * Failures that say the node could not do the call now, not that the call is wrong: it is unreachable,
 * starting or stopping (UNAVAILABLE), overloaded (RESOURCE_EXHAUSTED), too slow (DEADLINE_EXCEEDED), contended
 * (ABORTED), failed on its side (INTERNAL, UNKNOWN; Kafka's consumer retries an unknown server error too), or
 * ended the call (CANCELLED: a node that stops resets its streams so, as the producer's sender counts it). A
 * call that may be repeated is worth asking again, later or of another node, for as long as the client's
 * deadline; the others (NOT_FOUND, OUT_OF_RANGE, PERMISSION_DENIED, DATA_LOSS, ...) would be answered the same
 * anywhere. (This client also sees CANCELLED for reasons of its own, an answer it could not read say: asked
 * again, that fails until the deadline and is then reported.)
 */
final class Transient {
    private static final Set<Status.Code> CODES = Set.of(Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED,
            Status.Code.DEADLINE_EXCEEDED, Status.Code.ABORTED, Status.Code.INTERNAL, Status.Code.UNKNOWN,
            Status.Code.CANCELLED);

    private Transient() {
    }

    static boolean is(StrataException failure) {
        return CODES.contains(failure.code());
    }

    /**
     * Whether a produce that failed so is sent again: as {@link #is}, less INTERNAL and UNKNOWN. A node that
     * failed a write in a way it did not foresee fails the batch, as Kafka's producer does on an unknown server
     * error: sent again, it would most likely fail the same way until the delivery timeout.
     */
    static boolean retriesWrite(StrataException failure) {
        return is(failure) && failure.code() != Status.Code.INTERNAL && failure.code() != Status.Code.UNKNOWN;
    }
}
