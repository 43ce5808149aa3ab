package io.strata.server.share;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.strata.api.v1.InitProducerRequest;
import io.strata.api.v1.InitProducerResponse;
import io.strata.api.v1.NodeServiceGrpc;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.fetch.share.RecordAppender;
import io.strata.ingest.grpc.ProduceHandler;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.NodeInfo;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * A fetch node's writes of its own (dead-letter copies): into its own ingest handler when the node runs the ingest
 * role, else through an ingest node's node-to-node port, trying each live ingest node in turn. Owns its channels.
 * Thread-safe.
 */
public final class NodeRecordAppender implements RecordAppender, AutoCloseable {
    /** The principal dead-letter producers are issued to (no client can be it: clients are never nodes). */
    public static final String PRINCIPAL = "strata:node";
    private static final long CALL_TIMEOUT_MS = 40_000;

    private final ProduceHandler local;
    private final MetadataStore metadata;
    private final io.strata.server.net.PeerCalls peers;

    /** {@code local}: this node's ingest handler, or null when it does not run the ingest role. */
    public NodeRecordAppender(ProduceHandler local, MetadataStore metadata, Function<String, ManagedChannel> dialer) {
        this.local = local;
        this.metadata = metadata;
        this.peers = new io.strata.server.net.PeerCalls(dialer, CALL_TIMEOUT_MS);
    }

    @Override
    public CompletableFuture<Long> newProducerId() {
        if (local != null) {
            return local.initProducer(PRINCIPAL).thenApply(InitProducerResponse::getProducerId);
        }
        return this.<InitProducerResponse>remote((stub, done) -> stub.initProducer(
                InitProducerRequest.getDefaultInstance(), done)).thenApply(InitProducerResponse::getProducerId);
    }

    @Override
    public CompletableFuture<ProduceResponse> append(ProduceRequest request) {
        if (local != null) {
            return local.produce(request);
        }
        return this.<ProduceResponse>remote((stub, done) -> stub.produce(request, done));
    }

    private <T> CompletableFuture<T> remote(
            BiConsumer<NodeServiceGrpc.NodeServiceStub, io.grpc.stub.StreamObserver<T>> call) {
        return metadata.listNodes().thenCompose(nodes -> {
            List<String> ingest = new java.util.ArrayList<>(nodes.stream().filter(n -> n.roles().contains("ingest"))
                    .map(NodeInfo::internalAddress).toList());
            if (ingest.isEmpty()) {
                return CompletableFuture.failedFuture(Status.UNAVAILABLE.withDescription("no ingest node is live")
                        .asRuntimeException());
            }
            java.util.Collections.rotate(ingest, ThreadLocalRandom.current().nextInt(ingest.size()));
            return peers.call(ingest, call);
        });
    }

    @Override
    public void close() {
        peers.close();
    }
}
