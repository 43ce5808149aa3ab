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
import io.strata.security.Need;
import io.strata.server.grpc.RemoteAddress;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLSession;

/**
 * Every call on the client port passes here first: its credentials are checked ({@link AccessControl}, UNAUTHENTICATED
 * at once when missing or wrong) and its first request is held against the method's {@link AccessRules} before the
 * service sees it. A request that lacks a permission ends the call with PERMISSION_DENIED and never reaches the
 * service, so it leaves no trace. (A call's later messages are a ProduceStream's requests, checked one by one by
 * the service, or a SyncAssignment's heartbeats, which belong to the member the first one named; the streams that
 * live long check again as they send.) Health checks pass unauthenticated: probes carry no credentials.
 *
 * <p>A password not seen before costs milliseconds of PBKDF2: that check runs on a worker, not on the event loop
 * the call came in on, and the call's events wait for it in order.
 */
@GlobalInterceptor
@ApplicationScoped
public class CallGuard implements ServerInterceptor, jakarta.enterprise.inject.spi.Prioritized {
    private static final String HEALTH = "grpc.health.v1.Health/";

    @Inject
    AccessControl access;
    @Inject
    io.strata.server.config.StrataConfig config;
    /** Streams open per principal (strata.grpc.max-streams-per-principal). */
    private io.strata.security.OpenCounts streams;

    @jakarta.annotation.PostConstruct
    void countStreams() {
        streams = new io.strata.security.OpenCounts(config.grpc().maxStreamsPerPrincipal());
    }

    /** Inside StoppingGuard and StatusBounds (which bounds the statuses closed here), before everything else. */
    @Override
    public int getPriority() {
        return Integer.MAX_VALUE - 2;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        if (method.startsWith(HEALTH)) {
            return next.startCall(call, headers);
        }
        String crowded = io.strata.server.grpc.ClientConnections.refusal(call.getAttributes());
        if (crowded != null) {
            call.close(Status.RESOURCE_EXHAUSTED.withDescription(crowded), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        Optional<Identity> quick;
        try {
            quick = access.authenticateWithoutWaiting(headers, session);
        } catch (StatusRuntimeException e) {
            return refused(call, headers, e);
        }
        if (quick.isPresent()) {
            return admit(call, headers, next, quick.get());
        }
        io.vertx.core.Context loop = io.vertx.core.Vertx.currentContext();
        if (loop == null) { // not on an event loop: nothing to keep free
            try {
                return admit(call, headers, next, access.authenticate(headers, session));
            } catch (StatusRuntimeException e) {
                return refused(call, headers, e);
            }
        }
        Pending<Q> pending = new Pending<>();
        Context context = Context.current();
        loop.executeBlocking(() -> {
            if (context.isCancelled()) {
                throw Status.CANCELLED.withDescription("the call ended while its caller was authenticated")
                        .asRuntimeException(); // no PBKDF2 for a caller that went away
            }
            return access.authenticate(headers, session);
        }, false).onComplete(result -> {
            // Back on the call's event loop, where its other events are delivered too.
            ServerCall.Listener<Q> listener;
            if (result.failed()) {
                Throwable t = result.cause();
                listener = refused(call, headers, t instanceof StatusRuntimeException e ? e
                        : Status.INTERNAL.withDescription("authentication failed").withCause(t).asRuntimeException());
            } else {
                Context previous = context.attach();
                try {
                    listener = admit(call, headers, next, result.result());
                } catch (RuntimeException e) {
                    // Never leave the call open without a listener: it would hang until its deadline.
                    call.close(Status.fromThrowable(e), new Metadata());
                    listener = new ServerCall.Listener<>() { };
                } finally {
                    context.detach(previous);
                }
            }
            pending.start(listener);
        });
        return pending;
    }

    private <Q, R> ServerCall.Listener<Q> refused(ServerCall<Q, R> call, Metadata headers, StatusRuntimeException e) {
        String method = bare(call.getMethodDescriptor().getFullMethodName());
        if (e.getStatus().getCode() == Status.Code.UNAUTHENTICATED) {
            String tried = AccessControl.triedUser(headers);
            // The name comes from the caller's header (up to 16 KiB): quoted and cut as every resource is.
            AuditLog.record(Identity.ANONYMOUS, RemoteAddress.of(call, headers), method,
                    tried == null ? "" : "user " + io.strata.metadata.InputText.quoted(tried),
                    "unauthenticated: " + e.getStatus().getDescription());
        }
        call.close(e.getStatus(), new Metadata());
        return new ServerCall.Listener<>() { };
    }

    /** The call of an authenticated caller: into the service, under its method's rule. */
    private <Q, R> ServerCall.Listener<Q> admit(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next,
                                                Identity who) {
        String method = call.getMethodDescriptor().getFullMethodName();
        String address = RemoteAddress.of(call, headers);
        AccessRules.Rule rule = AccessRules.of(method);
        if (rule == null && !method.startsWith("grpc.reflection.") && access.required()) {
            AuditLog.record(who, address, bare(method), "", "denied: no access rule");
            call.close(Status.PERMISSION_DENIED.withDescription("no access rule for " + method), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        if (call.getMethodDescriptor().getType() != io.grpc.MethodDescriptor.MethodType.UNARY) {
            return countedStream(call, headers, next, who, address, rule);
        }
        return admitted(call, headers, next, who, address, rule);
    }

    /**
     * A stream, held to the principal's bound of open streams on this node (strata.grpc.max-streams-per-principal):
     * its count is given back however the stream ends.
     */
    private <Q, R> ServerCall.Listener<Q> countedStream(ServerCall<Q, R> call, Metadata headers,
                                                        ServerCallHandler<Q, R> next, Identity who, String address,
                                                        AccessRules.Rule rule) {
        // Without authentication every caller is User:ANONYMOUS: then each client address has its own bound, or one
        // client could take every stream of the node.
        String key = who.anonymous() ? who.principal() + "@" + (address.lastIndexOf(':') > 0
                ? address.substring(0, address.lastIndexOf(':')) : address) : who.principal();
        if (!streams.tryOpen(key)) {
            AuditLog.record(who, address, bare(call.getMethodDescriptor().getFullMethodName()), "",
                    "refused: too many streams");
            call.close(Status.RESOURCE_EXHAUSTED.withDescription(who.principal() + " has " + streams.max()
                    + " streams open on this node, the most it may (strata.grpc.max-streams-per-principal)"),
                    new Metadata());
            return new ServerCall.Listener<>() { };
        }
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                streams.close(key);
            }
        };
        ServerCall<Q, R> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                release.run();
                super.close(status, trailers);
            }
        };
        ServerCall.Listener<Q> listener;
        try {
            listener = admitted(counted, headers, next, who, address, rule);
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onCancel() {
                release.run();
                super.onCancel();
            }

            @Override
            public void onComplete() {
                release.run();
                super.onComplete();
            }
        };
    }

    private <Q, R> ServerCall.Listener<Q> admitted(ServerCall<Q, R> call, Metadata headers,
                                                   ServerCallHandler<Q, R> next, Identity who, String address,
                                                   AccessRules.Rule rule) {
        String method = call.getMethodDescriptor().getFullMethodName();
        Context context = Context.current().withValue(CallIdentity.KEY, who);
        if (rule == null) {
            return Contexts.interceptCall(context, call, headers, next);
        }
        Guarded<Q, R> guarded = new Guarded<>(call, who, address, bare(method), rule);
        ServerCall.Listener<Q> listener = Contexts.interceptCall(context, guarded, headers, next);
        return rule.perRequestInService() ? listener : guarded.listener(listener);
    }

    /**
     * The events of a call whose caller is still being authenticated, kept in order until it is known where they
     * go. Events and {@link #start} both come on the call's event loop; the lock only makes that not matter.
     */
    private static final class Pending<Q> extends ServerCall.Listener<Q> {
        private final ArrayDeque<java.util.function.Consumer<ServerCall.Listener<Q>>> events = new ArrayDeque<>();
        private ServerCall.Listener<Q> target;

        synchronized void start(ServerCall.Listener<Q> listener) {
            // Queued events first, in order; one that arrives meanwhile (delivered from within one of them)
            // queues behind them rather than overtaking.
            while (!events.isEmpty()) {
                events.poll().accept(listener);
            }
            target = listener;
        }

        private synchronized void deliver(java.util.function.Consumer<ServerCall.Listener<Q>> event) {
            if (target != null) {
                event.accept(target);
            } else {
                events.add(event);
            }
        }

        @Override
        public void onMessage(Q message) {
            deliver(l -> l.onMessage(message));
        }

        @Override
        public void onHalfClose() {
            deliver(ServerCall.Listener::onHalfClose);
        }

        @Override
        public void onCancel() {
            deliver(ServerCall.Listener::onCancel);
        }

        @Override
        public void onComplete() {
            deliver(ServerCall.Listener::onComplete);
        }

        @Override
        public void onReady() {
            deliver(ServerCall.Listener::onReady);
        }
    }

    /**
     * One call under a rule: its first request is checked before the service gets it, its answers are cut to what the
     * caller may describe, and an audited action's outcome is written when the call closes.
     */
    private final class Guarded<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private final Identity who;
        private final String address;
        private final String action;
        private final AccessRules.Rule rule;
        /** The call was closed (by the service or by the guard): later sends and closes are dropped. */
        private final AtomicBoolean closed = new AtomicBoolean();
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
            if (closed.get()) {
                return;
            }
            super.sendMessage(rule.filter() == null || !access.required() ? message
                    : (R) rule.filter().apply(message, need -> access.allowed(who, need)));
        }

        @Override
        public void close(Status status, Metadata trailers) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
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
                private boolean checked;

                @Override
                public void onMessage(Q message) {
                    if (denied) {
                        return;
                    }
                    if (!checked) {
                        checked = true;
                        StatusRuntimeException refusal = refusal(message);
                        if (refusal != null) {
                            denied = true;
                            close(refusal.getStatus(), new Metadata());
                            return;
                        }
                        if (rule.audited() != null) {
                            audited = rule.audited().apply(message);
                        }
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

                @Override
                public void onComplete() {
                    // A call the guard ended never saw its request: for the service it was cancelled.
                    if (denied) {
                        super.onCancel();
                    } else {
                        super.onComplete();
                    }
                }
            };
        }

        /** Why the request may not go on, or null when it may. */
        private StatusRuntimeException refusal(Q message) {
            for (Need n : rule.needs().apply(message)) {
                try {
                    if (!access.allowed(who, n)) {
                        AuditLog.record(who, address, action, n.resource(), "denied: " + n.operation().label());
                        return AccessControl.denied(who, n);
                    }
                } catch (StatusRuntimeException e) { // the node is starting
                    return e;
                }
            }
            return null;
        }
    }

    private static String bare(String method) {
        int slash = method.lastIndexOf('/');
        return slash < 0 ? method : method.substring(slash + 1);
    }
}
