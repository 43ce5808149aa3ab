package io.strata.server.reads;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.ListOffsetsResponse;
import io.strata.fetch.routing.FetchNodes;
import io.strata.format.Sharding;
import io.strata.metadata.TopicCache;
import io.strata.server.net.PeerCalls;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * The unary reads of a node without the fetch role (an ingest node behind a Service, the console on it, a group
 * reset to a time there), served by a fetch node over the node-to-node port: first the one that owns the
 * partition, whose cache most likely holds it (the ranking clients use), then the others while one cannot be
 * reached. This node checked the caller's access before; the fetch node takes such calls only from nodes
 * (mutual TLS while authentication is required). The caller's deadline and cancellation go with the call.
 * Thread-safe; owns its channels.
 */
public final class ReadsElsewhere implements Reads, AutoCloseable {
    private final FetchNodes fetchNodes;
    private final TopicCache topics;
    private final PeerCalls peers;

    /** {@code timeout}: the most one read may take over every fetch node tried (a fetch's longest wait and more). */
    public ReadsElsewhere(FetchNodes fetchNodes, TopicCache topics, Function<String, ManagedChannel> dialer,
                          Duration timeout) {
        this.fetchNodes = fetchNodes;
        this.topics = topics;
        this.peers = new PeerCalls(dialer, timeout.toMillis());
    }

    @Override
    public CompletableFuture<FetchResponse> fetch(FetchRequest request) {
        Context caller = Context.current();
        return ranked(request.getTopic(), request.getPartition()).thenCompose(nodes -> inContext(caller,
                () -> peers.<FetchResponse>call(nodes, (stub, done) -> stub.fetch(request, done))));
    }

    @Override
    public CompletableFuture<ListOffsetsResponse> listOffsets(ListOffsetsRequest request) {
        Context caller = Context.current();
        return ranked(request.getTopic(), request.getPartition()).thenCompose(nodes -> inContext(caller,
                () -> peers.<ListOffsetsResponse>call(nodes, (stub, done) -> stub.listOffsets(request, done))));
    }

    /**
     * Starts the call in the caller's gRPC context (its deadline, its cancellation), whatever thread the topic's
     * look-up completed on. A fetch node that refuses this node (PERMISSION_DENIED: it takes reads from nodes
     * only, and this one has no node certificate it accepts) is this node's fault, not the caller's: UNAVAILABLE,
     * so the client asks another node.
     */
    private static <T> CompletableFuture<T> inContext(Context caller,
                                                       java.util.function.Supplier<CompletableFuture<T>> call) {
        Context previous = caller.attach();
        CompletableFuture<T> started;
        try {
            started = call.get();
        } finally {
            caller.detach(previous);
        }
        return started.exceptionallyCompose(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.PERMISSION_DENIED) {
                return CompletableFuture.failedFuture(Status.UNAVAILABLE.withDescription("this node does not run "
                        + "the fetch role and the fetch nodes refuse to read for it (" + s.getStatus().getDescription()
                        + "); ask a node that runs it").asRuntimeException());
            }
            return CompletableFuture.failedFuture(cause);
        });
    }

    /**
     * The live fetch nodes' node-to-node addresses, the partition's owner first. A topic this node does not know
     * goes to any of them, which answers for it (NOT_FOUND, or the topic it just learnt of).
     */
    private CompletableFuture<List<String>> ranked(String topic, int partition) {
        return topics.get(topic).handle((found, failure) -> {
            List<String> addresses = fetchNodes.addresses();
            List<String> order = found != null && found.isPresent() && partition >= 0
                    ? Sharding.rank(Sharding.partitionKey(found.get().topicId(), partition), addresses) : addresses;
            return order.stream().map(fetchNodes::internalAddress).filter(Objects::nonNull).toList();
        });
    }

    @Override
    public void close() {
        peers.close();
    }
}
