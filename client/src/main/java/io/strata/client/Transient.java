package io.strata.client;

import io.grpc.Status;
import java.util.Set;

/**
 * Failures that say the node could not do the call now, not that the call is wrong: it is unreachable or
 * stopping (UNAVAILABLE), overloaded (RESOURCE_EXHAUSTED), too slow (DEADLINE_EXCEEDED), contended (ABORTED),
 * or failed on its side (INTERNAL, UNKNOWN, CANCELLED: a node that goes down mid-call may end it so). A call
 * that may be repeated is worth asking again, later or of another node; the others (NOT_FOUND, OUT_OF_RANGE,
 * PERMISSION_DENIED, DATA_LOSS, ...) would be answered the same anywhere.
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
}
