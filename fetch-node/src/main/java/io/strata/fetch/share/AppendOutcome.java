package io.strata.fetch.share;

import io.grpc.Status;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * How a node's own idempotent one-entry append came out, for the workers that write records of their own (delayed
 * records, half messages): stored (now, or before: a duplicate), or refused with a status code; an answer that leaves
 * it unknown whether the records were stored is thrown, so that the round stays written down and is sent again.
 */
public final class AppendOutcome {
    private AppendOutcome() {
    }

    /**
     * Null when the entry is stored (now or before); else the refusal's code. Throws when the outcome is unknown
     * (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNKNOWN), or the call did not answer in time.
     */
    public static Status.Code of(RecordAppender appender, ProduceRequest request, long timeoutSeconds) throws Exception {
        try {
            ProduceResponse response = appender.append(request).get(timeoutSeconds, TimeUnit.SECONDS);
            PartitionAppend a = response.getAppendsCount() == 1 ? response.getAppends(0) : null;
            int code = a == null ? Status.Code.INTERNAL.value() : a.hasError() ? a.getError().getCode() : 0;
            Status.Code refusal = code == 0 ? null : Status.fromCodeValue(code).getCode();
            return refusal == Status.Code.ALREADY_EXISTS ? null : refusal;
        } catch (ExecutionException e) {
            Status.Code refusal = Status.fromThrowable(e.getCause()).getCode();
            if (refusal == Status.Code.UNKNOWN || refusal == Status.Code.UNAVAILABLE
                    || refusal == Status.Code.DEADLINE_EXCEEDED || refusal == Status.Code.RESOURCE_EXHAUSTED) {
                throw e; // may or may not be stored
            }
            return refusal == Status.Code.ALREADY_EXISTS ? null : refusal;
        }
    }
}
