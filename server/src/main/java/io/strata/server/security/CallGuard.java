package io.strata.server.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GlobalInterceptor;
import io.strata.security.Identity;
import io.strata.server.grpc.RemoteAddress;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;

/**
 * Every call on the client port passes here first: its credentials are checked ({@link AccessControl#authenticate},
 * UNAUTHENTICATED at once when missing or wrong) and each request it sends is held against the method's
 * {@link AccessRules} before the service sees it. A request that lacks a permission ends the call with
 * PERMISSION_DENIED and never reaches the service, so it leaves no trace. Health checks pass unauthenticated
 * (probes carry no credentials).
 */
@GlobalInterceptor
@ApplicationScoped
public class CallGuard implements ServerInterceptor, jakarta.enterprise.inject.spi.Prioritized {
    private static final String HEALTH = "grpc.health.v1.Health/";

    @Inject
    AccessControl access;

    /** Inside StatusBounds (which bounds the statuses closed here), before everything else. */
    @Override
    public int getPriority() {
        return Integer.MAX_VALUE - 1;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        if (method.startsWith(HEALTH)) {
            return next.startCall(call, headers);
        }
        String address = RemoteAddress.of(call);
        Identity who;
        try {
            who = access.authenticate(headers, call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.UNAUTHENTICATED) {
                AuditLog.record(Identity.ANONYMOUS, address, bare(method), "", "unauthenticated: "
                        + e.getStatus().getDescription());
            }
            call.close(e.getStatus(), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        AccessRules.Rule rule = AccessRules.of(method);
        if (rule == null && !method.startsWith("grpc.reflection.")) {
            if (access.required()) {
                AuditLog.record(who, address, bare(method), "", "denied: no access rule");
                call.close(Status.PERMISSION_DENIED.withDescription("no access rule for " + method), new Metadata());
                return new ServerCall.Listener<>() { };
            }
        }
        Context context = Context.current().withValue(CallIdentity.KEY, who);
        if (rule == null) {
            return Contexts.interceptCall(context, call, headers, next);
        }
        Guarded<Q, R> guarded = new Guarded<>(call, who, address, bare(method), rule);
        ServerCall.Listener<Q> listener = Contexts.interceptCall(context, guarded, headers, next);
        return rule.perRequestInService() ? listener : guarded.listener(listener);
    }

    /**
     * One call under a rule: its requests are checked before the service gets them, its answers cut to what the
     * caller may describe, and an audited action's outcome written when the call closes.
     */
    private final class Guarded<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private final Identity who;
        private final String address;
        private final String action;
        private final AccessRules.Rule rule;
        /** Set on the transport's thread for inbound events; the service may close from another. */
        private volatile boolean denied;
        private volatile String audited;

        Guarded(ServerCall<Q, R> call, Identity who, String address, String action, AccessRules.Rule rule) {
            super(call);
            this.who = who;
            this.address = address;
            this.action = action;
            this.rule = rule;
        }

        @SuppressWarnings("unchecked")
        @Override
        public void sendMessage(R message) {
            super.sendMessage(rule.filter() == null || !access.required() ? message
                    : (R) rule.filter().apply(message, need -> access.allowed(who, need)));
        }

        @Override
        public void close(Status status, Metadata trailers) {
            String subject = audited;
            if (subject != null && !denied) {
                AuditLog.record(who, address, action, subject, status.isOk() ? "ok"
                        : "failed: " + status.getCode() + (status.getDescription() == null ? ""
                        : " " + status.getDescription()));
            }
            super.close(status, trailers);
        }

        ServerCall.Listener<Q> listener(ServerCall.Listener<Q> delegate) {
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
                @Override
                public void onMessage(Q message) {
                    if (denied) {
                        return;
                    }
                    for (Need n : rule.needs().apply(message)) {
                        boolean allowed;
                        try {
                            allowed = access.allowed(who, n);
                        } catch (StatusRuntimeException e) { // the node is starting
                            denied = true;
                            Guarded.super.close(e.getStatus(), new Metadata());
                            return;
                        }
                        if (!allowed) {
                            denied = true;
                            AuditLog.record(who, address, action, n.resource(), "denied: " + n.operation().label());
                            Guarded.super.close(AccessControl.denied(who, n).getStatus(), new Metadata());
                            return;
                        }
                    }
                    if (rule.audited() != null && audited == null) {
                        audited = rule.audited().apply(message);
                    }
                    super.onMessage(message);
                }

                @Override
                public void onHalfClose() {
                    if (!denied) {
                        super.onHalfClose();
                    }
                }

                @Override
                public void onReady() {
                    if (!denied) {
                        super.onReady();
                    }
                }
            };
        }
    }

    private static String bare(String method) {
        int slash = method.lastIndexOf('/');
        return slash < 0 ? method : method.substring(slash + 1);
    }

}
