package io.strata.server.share;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
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
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
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
    private final Function<String, ManagedChannel> dialer;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    /** {@code local}: this node's ingest handler, or null when it does not run the ingest role. */
    public NodeRecordAppender(ProduceHandler local, MetadataStore metadata, Function<String, ManagedChannel> dialer) {
        this.local = local;
        this.metadata = metadata;
        this.dialer = dialer;
    }

    @Override
    public CompletableFuture<Long> newProducerId() {
        if (local != null) {
            return local.initProducer(PRINCIPAL).thenApply(InitProducerResponse::getProducerId);
        }
        return remote((stub, done) -> stub.initProducer(InitProducerRequest.getDefaultInstance(), observer(done)))
                .thenApply(r -> ((InitProducerResponse) r).getProducerId());
    }

    @Override
    public CompletableFuture<ProduceResponse> append(ProduceRequest request) {
        if (local != null) {
            return local.produce(request);
        }
        return remote((stub, done) -> stub.produce(request, observer(done))).thenApply(r -> (ProduceResponse) r);
    }

    private CompletableFuture<Object> remote(BiConsumer<NodeServiceGrpc.NodeServiceStub, CompletableFuture<Object>> call) {
        return metadata.listNodes().thenCompose(nodes -> {
            List<NodeInfo> ingest = nodes.stream().filter(n -> n.roles().contains("ingest")).toList();
            if (ingest.isEmpty()) {
                return CompletableFuture.failedFuture(Status.UNAVAILABLE.withDescription("no ingest node is live")
                        .asRuntimeException());
            }
            return attempt(ingest, ThreadLocalRandom.current().nextInt(ingest.size()), 0, call);
        });
    }

    private CompletableFuture<Object> attempt(List<NodeInfo> nodes, int first, int tried,
                                              BiConsumer<NodeServiceGrpc.NodeServiceStub, CompletableFuture<Object>> call) {
        NodeInfo node = nodes.get((first + tried) % nodes.size());
        ManagedChannel channel = channels.computeIfAbsent(node.internalAddress(), dialer);
        CompletableFuture<Object> done = new CompletableFuture<>();
        call.accept(NodeServiceGrpc.newStub(channel).withDeadlineAfter(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS), done);
        return done.exceptionallyCompose(e -> {
            boolean unreachable = e instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.UNAVAILABLE;
            return unreachable && tried + 1 < nodes.size() ? attempt(nodes, first, tried + 1, call)
                    : CompletableFuture.failedFuture(e);
        });
    }

    private static <T> StreamObserver<T> observer(CompletableFuture<Object> done) {
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
