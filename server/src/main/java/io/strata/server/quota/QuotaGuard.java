package io.strata.server.quota;

import com.google.protobuf.MessageLite;
import io.grpc.Context;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.quarkus.grpc.GlobalInterceptor;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.SubscribeResponse;
import io.strata.security.Identity;
import io.strata.server.security.CallIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Holds gRPC callers to their quotas ({@link Quotas}): a request of a principal over its request or produce rate
 * waits, before the service sees it, as long as the quota says, and the calls' later requests queue behind it in
 * order (so the caller's stream stops being read: HTTP/2 flow control slows the sender, nothing piles up here); an
 * answer that takes a principal over its fetch rate makes the call's stream not ready (a Subscribe pushes
 * nothing more) and the principal's next fetch wait until it is paid for. The delay goes back in the answer's
 * {@code throttle_time_ms}. Nothing is refused for its quota. Runs after {@code CallGuard}, which knows the caller.
 */
@GlobalInterceptor
@ApplicationScoped
public class QuotaGuard implements ServerInterceptor, jakarta.enterprise.inject.spi.Prioritized {
    @Inject
    Quotas quotas;

    @Override
    public int getPriority() {
        return Integer.MAX_VALUE - 3;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        if (method.startsWith("grpc.") || method.startsWith("strata.v1.NodeService/")
                || (!quotas.active() && call.getMethodDescriptor().getType() == MethodDescriptor.MethodType.UNARY)) {
            // Probes, reflection and the nodes' own port; and, while the cluster has no quota, calls too short
            // for one set meanwhile to matter (streams are watched from the start: they may live for days).
            return next.startCall(call, headers);
        }
        boolean produce = method.startsWith("strata.v1.ProducerService/Produce");
        boolean fetch = method.startsWith("strata.v1.FetchService/");
        // A member's heartbeats are counted but never held: held past its session, it would lose its partitions
        // and rebalance its group, which only makes more requests.
        boolean liveness = method.equals("strata.v1.GroupService/Heartbeat")
                || method.equals("strata.v1.GroupService/JoinGroup") || method.equals("strata.v1.GroupService/LeaveGroup")
                || method.equals("strata.v1.GroupService/SyncAssignment");
        Metered<Q, R> metered = new Metered<>(call, CallIdentity.current(), produce, fetch, liveness);
        metered.target = next.startCall(metered, headers);
        return metered.listener();
    }

    /** A listener event, and what its request cost (given back when the call ends before it is delivered). */
    private record Event(Runnable run, long produceBytes, boolean request) {
    }

    /**
     * One call under its caller's quota. Events are delivered one at a time and in order, from the transport's
     * thread or the release timer, never under a lock (a service that sends from within an event, or from another
     * thread while holding its own lock, must not meet this one), and inside the call's gRPC context.
     */
    private final class Metered<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private final Identity who;
        private final boolean produce;
        private final boolean fetch;
        private final boolean liveness;
        private final io.vertx.core.Context loop = io.vertx.core.Vertx.currentContext();
        private final Context context = Context.current();
        private final ArrayDeque<Event> held = new ArrayDeque<>();
        /** Delay imposed on requests and not yet reported in an answer. */
        private final AtomicLong unreported = new AtomicLong();
        /** System.nanoTime() until which events wait; starts now (nanoTime may be negative: never 0). */
        private final AtomicLong heldUntil = new AtomicLong(System.nanoTime());
        private final AtomicBoolean readyScheduled = new AtomicBoolean();
        /** One thread delivers at a time; guarded by {@code held}. */
        private boolean delivering;
        /** The call's end, waiting for the event being delivered; guarded by {@code held}. */
        private Runnable terminal;
        private boolean releaseScheduled;
        /** The call ended (cancelled, completed or failed in delivery): nothing more is delivered. */
        private volatile boolean over;
        ServerCall.Listener<Q> target;

        Metered(ServerCall<Q, R> call, Identity who, boolean produce, boolean fetch, boolean liveness) {
            super(call);
            this.who = who;
            this.produce = produce;
            this.fetch = fetch;
            this.liveness = liveness;
        }

        ServerCall.Listener<Q> listener() {
            return new ServerCall.Listener<>() {
                @Override
                public void onMessage(Q message) {
                    long bytes = 0;
                    boolean counted = false;
                    if (quotas.active()) {
                        bytes = produce && message instanceof MessageLite m ? m.getSerializedSize() : 0;
                        long wait = Math.max(quotas.request(who, bytes), fetch ? quotas.fetchOwed(who) : 0);
                        counted = true;
                        if (wait > 0 && !liveness) {
                            hold(wait);
                            unreported.addAndGet(wait);
                        }
                    }
                    deliver(new Event(() -> target.onMessage(message), bytes, counted));
                }

                @Override
                public void onHalfClose() {
                    deliver(new Event(target::onHalfClose, 0, false));
                }

                @Override
                public void onReady() {
                    deliver(new Event(target::onReady, 0, false));
                }

                @Override
                public void onComplete() {
                    end(target::onComplete);
                }

                @Override
                public void onCancel() {
                    end(target::onCancel);
                }
            };
        }

        private void hold(long nanos) {
            long until = System.nanoTime() + nanos;
            heldUntil.accumulateAndGet(until, Math::max);
        }

        /**
         * The call is over: what waits is dropped (its requests refunded: they were never served), then the listener
         * is told, after the event being delivered if there is one, never beside it.
         */
        private void end(Runnable last) {
            List<Event> dropped;
            boolean now;
            synchronized (held) {
                over = true;
                dropped = new ArrayList<>(held);
                held.clear();
                now = !delivering;
                if (now) {
                    delivering = true;
                } else {
                    terminal = last; // the delivering thread runs it next
                }
            }
            for (Event e : dropped) {
                if (e.request()) {
                    quotas.refund(who, e.produceBytes());
                }
            }
            if (now) {
                try {
                    context.run(last);
                } finally {
                    synchronized (held) {
                        delivering = false;
                    }
                }
            }
        }

        private void deliver(Event event) {
            synchronized (held) {
                if (over) {
                    return;
                }
                held.add(event);
                if (delivering) {
                    return; // the thread delivering takes it in turn
                }
                delivering = true;
            }
            drain();
        }

        /** Delivers what may go now, in order, outside the lock; schedules the rest for when the hold ends. */
        private void drain() {
            while (true) {
                Event next = null;
                Runnable last = null;
                synchronized (held) {
                    if (terminal != null) {
                        last = terminal;
                        terminal = null;
                    } else if (held.isEmpty() || over) {
                        delivering = false;
                        return;
                    } else if (System.nanoTime() < heldUntil.get()) {
                        delivering = false;
                        if (!releaseScheduled) {
                            releaseScheduled = true;
                            later(this::release);
                        }
                        return;
                    } else {
                        next = held.poll();
                    }
                }
                if (last != null) {
                    try {
                        context.run(last);
                    } finally {
                        synchronized (held) {
                            delivering = false;
                        }
                    }
                    return;
                }
                try {
                    context.run(next.run());
                } catch (RuntimeException | Error e) {
                    // What the service threw is the call's end; the events behind it are not delivered (its end,
                    // onCancel or onComplete, still is: the loop goes on to it).
                    over = true;
                    try {
                        super.close(Status.fromThrowable(e), new Metadata());
                    } catch (RuntimeException alreadyClosed) {
                        // the service had closed it: nothing more to say
                    }
                }
            }
        }

        private void release() {
            synchronized (held) {
                releaseScheduled = false;
                if (delivering) {
                    return;
                }
                delivering = true;
            }
            drain();
        }

        /** Runs {@code task} once the hold has passed, on the call's event loop when it has one. */
        private void later(Runnable task) {
            long ms = Math.max(1, TimeUnit.NANOSECONDS.toMillis(heldUntil.get() - System.nanoTime() + 999_999));
            try {
                if (loop != null) {
                    loop.owner().setTimer(ms, id -> loop.runOnContext(v -> task.run()));
                } else {
                    quotas.releases().schedule(task, ms, TimeUnit.MILLISECONDS);
                }
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the node is stopping
            }
        }

        @Override
        public boolean isReady() {
            if (System.nanoTime() < heldUntil.get()) {
                if (readyScheduled.compareAndSet(false, true)) {
                    // Told once the hold has passed, as a stream is told when its transport drains.
                    later(() -> {
                        readyScheduled.set(false);
                        if (!over) {
                            deliver(new Event(target::onReady, 0, false));
                        }
                    });
                }
                return false;
            }
            return super.isReady();
        }

        @Override
        public void sendMessage(R message) {
            long delay = unreported.getAndSet(0);
            if (fetch && quotas.active() && message instanceof MessageLite m) {
                // Answered now; what it costs holds the stream's next answer and the principal's next fetch.
                long wait = quotas.fetched(who, m.getSerializedSize());
                if (wait > 0) {
                    hold(wait);
                    delay = Math.max(delay, wait);
                }
            }
            super.sendMessage(delay > 0 ? reported(message, (int) Math.min(Integer.MAX_VALUE,
                    TimeUnit.NANOSECONDS.toMillis(delay))) : message);
        }

        @SuppressWarnings("unchecked")
        private R reported(R message, int ms) {
            Object m = message;
            if (m instanceof ProduceResponse p) {
                m = p.toBuilder().setThrottleTimeMs(ms).build();
            } else if (m instanceof FetchResponse f) {
                m = f.toBuilder().setThrottleTimeMs(ms).build();
            } else if (m instanceof FetchChunksResponse f) {
                m = f.toBuilder().setThrottleTimeMs(ms).build();
            } else if (m instanceof SubscribeResponse s) {
                m = s.hasRecords() ? s.toBuilder().setRecords(s.getRecords().toBuilder().setThrottleTimeMs(ms)).build()
                        : s.toBuilder().setChunks(s.getChunks().toBuilder().setThrottleTimeMs(ms)).build();
            }
            return (R) m;
        }
    }
}
