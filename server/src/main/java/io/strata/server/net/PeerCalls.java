package io.strata.server.net;

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
 * reached (UNAVAILABLE), to the next; any other answer, good or bad, is the call's. Owns one channel per node
 * it called. Thread-safe.
 */
public final class PeerCalls implements AutoCloseable {
    private final Function<String, ManagedChannel> dialer;
    private final long timeoutMs;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    /** {@code dialer} opens a channel to a node-to-node address; each call gets {@code timeoutMs} per node tried. */
    public PeerCalls(Function<String, ManagedChannel> dialer, long timeoutMs) {
        this.dialer = dialer;
        this.timeoutMs = timeoutMs;
    }

    /** Calls the nodes at {@code internalAddresses} in turn; fails UNAVAILABLE when there are none. */
    public <T> CompletableFuture<T> call(List<String> internalAddresses,
                                         BiConsumer<NodeServiceGrpc.NodeServiceStub, StreamObserver<T>> call) {
        if (internalAddresses.isEmpty()) {
            return CompletableFuture.failedFuture(Status.UNAVAILABLE.withDescription("no node to ask is live")
                    .asRuntimeException());
        }
        return attempt(internalAddresses, 0, call);
    }

    private <T> CompletableFuture<T> attempt(List<String> nodes, int tried,
                                             BiConsumer<NodeServiceGrpc.NodeServiceStub, StreamObserver<T>> call) {
        ManagedChannel channel = channels.computeIfAbsent(nodes.get(tried), dialer);
        CompletableFuture<T> done = new CompletableFuture<>();
        call.accept(NodeServiceGrpc.newStub(channel).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS),
                observer(done));
        return done.exceptionallyCompose(e -> {
            boolean unreachable = e instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.UNAVAILABLE;
            return unreachable && tried + 1 < nodes.size() ? attempt(nodes, tried + 1, call)
                    : CompletableFuture.failedFuture(e);
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
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
