package io.strata.server.net;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.NodeServiceGrpc;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Unary calls to other nodes' node-to-node ports: to the first of the nodes given, then, while one cannot be
 * reached (UNAVAILABLE), to the next, all within one deadline; any other answer, good or bad, is the call's. Owns
 * one channel per node it calls, and closes those of nodes no longer among the live ones it is given (pods come
 * back at new addresses). Thread-safe.
 */
public final class PeerCalls implements AutoCloseable {
    private final Function<String, ManagedChannel> dialer;
    private final long timeoutMs;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** {@code dialer} opens a channel to a node-to-node address; a call gets {@code timeoutMs} over every node tried. */
    public PeerCalls(Function<String, ManagedChannel> dialer, long timeoutMs) {
        this.dialer = dialer;
        this.timeoutMs = timeoutMs;
    }

    /**
     * Calls the nodes at {@code internalAddresses} (every live node of the kind this caller asks, in the order to
     * try them) in turn; fails UNAVAILABLE when there are none. Made in a gRPC context with a deadline (a
     * server call's), the call keeps the nearer of that and its own, and is cancelled with it.
     */
    public <T> CompletableFuture<T> call(List<String> internalAddresses,
                                         BiConsumer<NodeServiceGrpc.NodeServiceStub, StreamObserver<T>> call) {
        if (closed) {
            return CompletableFuture.failedFuture(Status.UNAVAILABLE.withDescription("this node is stopping")
                    .asRuntimeException());
        }
        for (String address : channels.keySet()) {
            if (!internalAddresses.contains(address)) {
                ManagedChannel gone = channels.remove(address); // exactly what is shut down leaves the map
                if (gone != null) {
                    gone.shutdown(); // calls under way on it finish
                }
            }
        }
        if (internalAddresses.isEmpty()) {
            return CompletableFuture.failedFuture(Status.UNAVAILABLE.withDescription("no node to ask is live")
                    .asRuntimeException());
        }
        return attempt(internalAddresses, 0, Deadline.after(timeoutMs, TimeUnit.MILLISECONDS), call);
    }

    private <T> CompletableFuture<T> attempt(List<String> nodes, int tried, Deadline deadline,
                                             BiConsumer<NodeServiceGrpc.NodeServiceStub, StreamObserver<T>> call) {
        ManagedChannel channel = channels.computeIfAbsent(nodes.get(tried), dialer);
        CompletableFuture<T> done = new CompletableFuture<>();
        call.accept(NodeServiceGrpc.newStub(channel).withDeadline(deadline), observer(done));
        Context context = Context.current(); // the next attempt is made in it too, from whatever thread answered
        return done.exceptionallyCompose(e -> {
            boolean unreachable = e instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.UNAVAILABLE;
            if (!unreachable || tried + 1 >= nodes.size() || deadline.isExpired()) {
                return CompletableFuture.failedFuture(e);
            }
            Context previous = context.attach();
            try {
                return attempt(nodes, tried + 1, deadline, call);
            } finally {
                context.detach(previous);
            }
        });
    }

    private static <T> StreamObserver<T> observer(CompletableFuture<T> done) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                done.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                if (!done.isDone()) {
                    done.completeExceptionally(Status.INTERNAL.withDescription("no answer").asRuntimeException());
                }
            }
        };
    }

    @Override
    public void close() {
        closed = true;
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
