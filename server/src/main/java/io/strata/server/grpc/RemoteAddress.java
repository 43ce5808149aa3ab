package io.strata.server.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.SocketAddress;

/** Puts the caller's address where a service can read it (a group member's address, shown by describe). */
@GlobalInterceptor
@ApplicationScoped
public class RemoteAddress implements ServerInterceptor {
    /** "host:port" of the caller of the current call, or "unknown". */
    public static final Context.Key<String> CURRENT = Context.keyWithDefault("strata-remote-address", "unknown");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        return Contexts.interceptCall(Context.current().withValue(CURRENT, of(call, headers)), call, headers, next);
    }

    /**
     * "host:port" of the call's caller. A call of the console's JSON door comes in-process, from this node: its
     * caller is the HTTP client the door names (only an in-process call is believed, so no network caller can
     * claim another address).
     */
    public static String of(ServerCall<?, ?> call, Metadata headers) {
        SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        if (remote instanceof io.grpc.inprocess.InProcessSocketAddress) {
            String caller = headers.get(io.strata.console.api.JsonCalls.CALLER);
            return caller != null ? caller : "console";
        }
        return io.strata.security.ClientAddress.of(remote);
    }
}
