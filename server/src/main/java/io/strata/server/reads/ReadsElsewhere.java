package io.strata.server.reads;

import io.grpc.ManagedChannel;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.ListOffsetsResponse;
import io.strata.fetch.routing.FetchNodes;
import io.strata.format.Sharding;
import io.strata.metadata.TopicCache;
import io.strata.server.net.PeerCalls;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The unary reads of a node without the fetch role (an ingest-only node behind a Service, the console on it, a
 * group reset to a time there), served by a fetch node over the node-to-node port: first the one that owns the
 * partition, whose cache most likely holds it (the ranking clients use), then the others while one cannot be
 * reached. This node checked the caller's access before; the fetch node takes such calls only from nodes
 * (mutual TLS while authentication is required). Thread-safe; owns its channels.
 */
public final class ReadsElsewhere implements Reads, AutoCloseable {
    /** A fetch waits up to the fetch role's longest wait, and then reads: time for both. */
    private static final long CALL_TIMEOUT_MS = 60_000;

    private final FetchNodes fetchNodes;
    private final TopicCache topics;
    private final PeerCalls peers;

    public ReadsElsewhere(FetchNodes fetchNodes, TopicCache topics, Function<String, ManagedChannel> dialer) {
        this.fetchNodes = fetchNodes;
        this.topics = topics;
        this.peers = new PeerCalls(dialer, CALL_TIMEOUT_MS);
    }

    @Override
    public CompletableFuture<FetchResponse> fetch(FetchRequest request) {
        return ranked(request.getTopic(), request.getPartition())
                .thenCompose(nodes -> peers.<FetchResponse>call(nodes, (stub, done) -> stub.fetch(request, done)));
    }

    @Override
    public CompletableFuture<ListOffsetsResponse> listOffsets(ListOffsetsRequest request) {
        return ranked(request.getTopic(), request.getPartition())
                .thenCompose(nodes -> peers.<ListOffsetsResponse>call(nodes, (stub, done) -> stub.listOffsets(request, done)));
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
