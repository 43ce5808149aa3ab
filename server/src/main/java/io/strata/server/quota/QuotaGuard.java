package io.strata.server.quota;

import com.google.protobuf.MessageLite;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
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
        return Integer.MAX_VALUE - 2;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        if (method.startsWith("grpc.") || method.startsWith("strata.v1.NodeService/")) {
            return next.startCall(call, headers); // probes, reflection and the nodes' own port
        }
        boolean produce = method.startsWith("strata.v1.ProducerService/Produce");
        boolean fetch = method.startsWith("strata.v1.FetchService/");
        Metered<Q, R> metered = new Metered<>(call, CallIdentity.current(), produce, fetch);
        metered.target = next.startCall(metered, headers);
        return metered.listener();
    }

    /** One call under its caller's quota. Listener events come one at a time; the lock orders them with the timer's. */
    private final class Metered<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private final Identity who;
        private final boolean produce;
        private final boolean fetch;
        private final io.vertx.core.Context loop = io.vertx.core.Vertx.currentContext();
        private final ArrayDeque<Runnable> held = new ArrayDeque<>();
        /** Delay imposed on requests and not yet reported in an answer. */
        private final AtomicLong unreported = new AtomicLong();
        private volatile long heldUntil;
        private volatile boolean readyScheduled;
        private boolean releaseScheduled;
        ServerCall.Listener<Q> target;

        Metered(ServerCall<Q, R> call, Identity who, boolean produce, boolean fetch) {
            super(call);
            this.who = who;
            this.produce = produce;
            this.fetch = fetch;
        }

        ServerCall.Listener<Q> listener() {
            return new ServerCall.Listener<>() {
                @Override
                public void onMessage(Q message) {
                    if (quotas.active()) {
                        long bytes = produce && message instanceof MessageLite m ? m.getSerializedSize() : 0;
                        long wait = Math.max(quotas.request(who, bytes), fetch ? quotas.fetchOwed(who) : 0);
                        if (wait > 0) {
                            hold(wait);
                            unreported.addAndGet(wait);
                        }
                    }
                    deliver(() -> target.onMessage(message));
                }

                @Override
                public void onHalfClose() {
                    deliver(target::onHalfClose);
                }

                @Override
                public void onReady() {
                    deliver(target::onReady);
                }

                @Override
                public void onComplete() {
                    deliver(target::onComplete);
                }

                @Override
                public void onCancel() {
                    synchronized (Metered.this) {
                        held.clear(); // the caller is gone: what it sent need not be worked on
                    }
                    target.onCancel();
                }
            };
        }

        private void hold(long nanos) {
            long until = System.nanoTime() + nanos;
            synchronized (this) {
                heldUntil = Math.max(heldUntil, until);
            }
        }

        private synchronized void deliver(Runnable event) {
            if (held.isEmpty() && System.nanoTime() >= heldUntil) {
                event.run();
                return;
            }
            held.add(event);
            if (!releaseScheduled) {
                releaseScheduled = true;
                later(this::release);
            }
        }

        private synchronized void release() {
            releaseScheduled = false;
            while (!held.isEmpty() && System.nanoTime() >= heldUntil) {
                held.poll().run();
            }
            if (!held.isEmpty() && !releaseScheduled) {
                releaseScheduled = true;
                later(this::release);
            }
        }

        /** Runs {@code task} once {@link #heldUntil} has passed, on the call's event loop when it has one. */
        private void later(Runnable task) {
            long ms = Math.max(1, TimeUnit.NANOSECONDS.toMillis(heldUntil - System.nanoTime() + 999_999));
            var timer = quotas.timer();
            if (loop != null) {
                loop.owner().setTimer(ms, id -> loop.runOnContext(v -> task.run()));
            } else if (timer != null) {
                timer.schedule(task, ms, TimeUnit.MILLISECONDS);
            } else {
                task.run();
            }
        }

        @Override
        public boolean isReady() {
            if (System.nanoTime() < heldUntil) {
                if (!readyScheduled) {
                    readyScheduled = true; // told once it has passed, as a stream is told when it drains
                    later(() -> {
                        readyScheduled = false;
                        deliver(target::onReady);
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
