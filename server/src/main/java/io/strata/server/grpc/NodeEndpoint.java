package io.strata.server.grpc;

import io.grpc.stub.StreamObserver;
import io.strata.api.v1.HandOverChunksRequest;
import io.strata.api.v1.HandOverChunksResponse;
import io.strata.api.v1.HandedChunk;
import io.strata.api.v1.NodeServiceGrpc;
import io.strata.fetch.cache.ChunkCache;
import io.strata.server.StrataNode;
import io.strata.server.handoff.ChunkHandOff;
import java.util.concurrent.CompletableFuture;

/**
 * Calls between nodes: the fetch side of the tail hand-off. Served on the node's internal port only
 * ({@code strata.internal.port}), never on the client port.
 */
public class NodeEndpoint extends NodeServiceGrpc.NodeServiceImplBase {
    private final StrataNode node;

    public NodeEndpoint(StrataNode node) {
        this.node = node;
    }

    @Override
    public void handOverChunks(HandOverChunksRequest request, StreamObserver<HandOverChunksResponse> observer) {
        GrpcErrors.reply(observer, () -> {
            // Chunks served to readers as the stored ones (their CRC32C is no proof against a forger): from nodes only.
            checkWritesAllowed();
            ChunkCache cache = node.fetchRole().cache();
            int accepted = 0;
            for (HandedChunk h : request.getChunksList()) {
                // Copied out of the request: the cache may keep it long after the call.
                java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(h.getData().size());
                h.getData().copyTo(bytes);
                if (cache.offer(ChunkHandOff.key(h), bytes.flip())) {
                    accepted++;
                }
            }
            return CompletableFuture.completedFuture(HandOverChunksResponse.newBuilder().setAccepted(accepted).build());
        });
    }

    /** The partitions this fetch node reads at the tail, then their changes, until the caller cancels. */
    @Override
    public void watchTailReaders(io.strata.api.v1.WatchTailReadersRequest request,
                                 StreamObserver<io.strata.api.v1.TailReadersUpdate> observer) {
        try {
            checkCallsAllowed("watches"); // which partitions are read, and where: nodes' business only
            io.strata.server.handoff.TailReadersStream.serve(node.fetchRole().tail(), observer);
        } catch (RuntimeException e) {
            observer.onError(GrpcErrors.toStatus(e));
        }
    }

    @Override
    public void initProducer(io.strata.api.v1.InitProducerRequest request,
                             StreamObserver<io.strata.api.v1.InitProducerResponse> observer) {
        GrpcErrors.reply(observer, () -> {
            checkWritesAllowed();
            return node.ingest().initProducer(io.strata.server.share.NodeRecordAppender.PRINCIPAL);
        });
    }

    @Override
    public void produce(io.strata.api.v1.ProduceRequest request, StreamObserver<io.strata.api.v1.ProduceResponse> observer) {
        GrpcErrors.reply(observer, () -> {
            checkWritesAllowed();
            return node.ingest().produce(request);
        });
    }

    /** A read for a node without the fetch role, whose client this node cannot check again: from nodes only. */
    @Override
    public void fetch(io.strata.api.v1.FetchRequest request, StreamObserver<io.strata.api.v1.FetchResponse> observer) {
        GrpcErrors.reply(observer, () -> {
            checkCallsAllowed("reads");
            return node.fetch().fetch(request);
        });
    }

    @Override
    public void listOffsets(io.strata.api.v1.ListOffsetsRequest request,
                            StreamObserver<io.strata.api.v1.ListOffsetsResponse> observer) {
        GrpcErrors.reply(observer, () -> {
            checkCallsAllowed("reads");
            return node.fetch().listOffsets(request);
        });
    }

    private void checkWritesAllowed() {
        checkCallsAllowed("writes");
    }

    /** Calls that act for a client this node cannot see: taken only from nodes while authentication is required. */
    private void checkCallsAllowed(String what) {
        if (!node.internalCallsAllowed()) {
            throw io.grpc.Status.PERMISSION_DENIED.withDescription("this node takes " + what + " on its node-to-node "
                    + "port only over mutual TLS while authentication is required (strata.tls.internal.*)")
                    .asRuntimeException();
        }
    }

    /** A check of a half message for one of this node's producers of its group ("unknown" when none is here). */
    @Override
    public void checkHalf(io.strata.api.v1.CheckHalfRequest request,
                          StreamObserver<io.strata.api.v1.CheckHalfResponse> observer) {
        GrpcErrors.reply(observer, () -> {
            checkWritesAllowed(); // a check sends a record to a producer and takes its answer for a decision
            CompletableFuture<io.strata.api.v1.HalfDecision> asked = node.checkBacks().askLocal(
                    request.getProducerGroup(), request.getCheck());
            return (asked == null ? CompletableFuture.completedFuture(io.strata.api.v1.HalfDecision.HALF_DECISION_UNKNOWN)
                    : asked).thenApply(d -> io.strata.api.v1.CheckHalfResponse.newBuilder().setDecision(d).build());
        });
    }
}
