package io.strata.client;

import io.grpc.Status;
import java.util.Set;

/**
 * Failures that say the node could not do the call now, not that the call is wrong: it is unreachable,
 * starting or stopping (UNAVAILABLE), overloaded (RESOURCE_EXHAUSTED), too slow (DEADLINE_EXCEEDED), contended
 * (ABORTED), or failed on its side (INTERNAL, UNKNOWN; Kafka's consumer retries an unknown server error too). A
 * call that may be repeated is worth asking again, later or of another node; the others (NOT_FOUND,
 * OUT_OF_RANGE, PERMISSION_DENIED, DATA_LOSS, ...) would be answered the same anywhere. CANCELLED is left out: a
 * node that goes away mid-call ends it UNAVAILABLE, and this client sees CANCELLED for reasons of its own (an
 * interrupted thread, a cancelled context, an answer it could not read), which asking again would not mend.
 */
final class Transient {
    private static final Set<Status.Code> CODES = Set.of(Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED,
            Status.Code.DEADLINE_EXCEEDED, Status.Code.ABORTED, Status.Code.INTERNAL, Status.Code.UNKNOWN);

    private Transient() {
    }

    static boolean is(StrataException failure) {
        return CODES.contains(failure.code());
    }
}
