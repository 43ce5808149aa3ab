package io.strata.server.grpc;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Keeps every status a call ends with small enough for HTTP/2 trailers. A description is often built from the
 * caller's own input ("unknown topic '…'"); one that outgrew the peer's header limit (8 KiB by default) was
 * never delivered, and the call, and the later calls of its connection, hung until their deadlines. A
 * description is cut to {@link #MAX_CHARS} characters (at most 9 bytes each once percent-encoded), saying how
 * long it was.
 */
@GlobalInterceptor
@ApplicationScoped
public class StatusBounds implements ServerInterceptor, jakarta.enterprise.inject.spi.Prioritized {
    static final int MAX_CHARS = 512;

    /**
     * Outermost of the interceptors but {@link StoppingGuard}: a status another one closes a call with (an
     * exception's) is bounded too.
     */
    @Override
    public int getPriority() {
        return Integer.MAX_VALUE - 1;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                super.close(bounded(status), trailers);
            }
        }, headers);
    }

    /** The status with its description cut to the bound, or as it is. */
    static Status bounded(Status status) {
        String d = status.getDescription();
        if (d == null || d.length() <= MAX_CHARS) {
            return status;
        }
        return status.withDescription(d.substring(0, MAX_CHARS) + "… (" + d.length() + " characters in all)");
    }
}
