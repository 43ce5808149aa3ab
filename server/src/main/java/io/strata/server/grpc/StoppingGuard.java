package io.strata.server.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

/**
 * Refuses every call that arrives once the node has started stopping with UNAVAILABLE, which clients retry at
 * another node. The service methods refuse them so too while the node drains, but Quarkus's gRPC server takes
 * calls until Vert.x closes, after the CDI container is gone: a call then failed in the first interceptor that
 * is a client proxy (an ApplicationScoped bean), and its client got UNKNOWN "ArC container not initialized",
 * which a producer rightly does not send a write again on. So this interceptor is a Singleton (the gRPC server
 * holds the object itself, no proxy), needs nothing from the container, and is the outermost. (gRPC health checks
 * are refused so too, rather than answered NOT_SERVING: the node's probes are HTTP.)
 */
@GlobalInterceptor
@Singleton
public class StoppingGuard implements ServerInterceptor, jakarta.enterprise.inject.spi.Prioritized {
    private volatile boolean stopping;

    @Override
    public int getPriority() {
        return Integer.MAX_VALUE;
    }

    /** First of the node's stop: before it drains (StrataNode), and before its produce streams end. */
    void stop(@Observes @jakarta.annotation.Priority(jakarta.interceptor.Interceptor.Priority.PLATFORM_BEFORE)
              ShutdownEvent event) {
        stopping = true;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        if (stopping) {
            call.close(Status.UNAVAILABLE.withDescription("this node is stopping; another node answers"),
                    new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return next.startCall(call, headers);
    }
}
