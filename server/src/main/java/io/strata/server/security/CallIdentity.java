package io.strata.server.security;

import io.grpc.Context;
import io.strata.security.Identity;

/** The identity of the current gRPC call, as {@link CallGuard} authenticated it. */
public final class CallIdentity {
    static final Context.Key<Identity> KEY = Context.keyWithDefault("strata-identity", Identity.UNKNOWN);

    private CallIdentity() {
    }

    public static Identity current() {
        return KEY.get();
    }
}
