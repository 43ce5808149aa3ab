package io.strata.server.grpc;

import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.strata.api.v1.InitProducerRequest;
import io.strata.api.v1.InitProducerResponse;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.ingest.grpc.ProduceStream;
import io.strata.server.StrataNode;
import jakarta.inject.Inject;
import java.util.concurrent.CompletableFuture;

/** gRPC adapter of the ingest role; the work is in {@link io.strata.ingest.grpc.ProduceHandler}. */
@GrpcService
public class ProducerEndpoint extends ProducerServiceGrpc.ProducerServiceImplBase {
    /** Requests of one stream the node works on at once (see {@link ProduceStream}). */
    private static final int STREAM_WINDOW = 32;

    @Inject
    StrataNode node;
    @Inject
    io.strata.server.security.AccessControl access;
    private final io.strata.ingest.grpc.OpenProduceStreams streams = new io.strata.ingest.grpc.OpenProduceStreams();

    /**
     * As the node starts stopping (before {@link StrataNode}'s own stop, which commits what its pipeline holds and
     * answers it), the open streams read no more and end with UNAVAILABLE once their answers are sent; what their
     * clients sent meanwhile is not read, and goes to another node once the stream ends.
     */
    void stop(@jakarta.enterprise.event.Observes @jakarta.annotation.Priority(
            jakarta.interceptor.Interceptor.Priority.APPLICATION + 400) io.quarkus.runtime.ShutdownEvent event) {
        int open = streams.endAll(io.grpc.Status.UNAVAILABLE.withDescription(
                "this ingest node is stopping; another one answers"));
        org.jboss.logging.Logger.getLogger(ProducerEndpoint.class).infof("ending %d produce streams", open);
    }

    @Override
    public void produce(ProduceRequest request, StreamObserver<ProduceResponse> observer) {
        GrpcErrors.reply(observer, () -> {
            access.requireProducerId(io.strata.server.security.CallIdentity.current(), request.getProducerId(),
                    RemoteAddress.CURRENT.get(), "Produce");
            return node.ingest().produce(request);
        });
    }

    @Override
    public StreamObserver<ProduceRequest> produceStream(StreamObserver<ProduceResponse> responses) {
        var ingest = node.ingest(); // fails the call at once on a node without the ingest role
        io.strata.security.Identity who = io.strata.server.security.CallIdentity.current();
        String address = RemoteAddress.CURRENT.get();
        return ProduceStream.start(responses, (request, admitted) -> {
            try {
                // Each request on its own: a denied one is that request's error, the stream goes on.
                access.require(who, io.strata.server.security.AccessRules.produce(request), address, "ProduceStream");
                access.requireProducerId(who, request.getProducerId(), address, "ProduceStream");
                return ingest.produce(request, admitted).exceptionallyCompose(
                        e -> CompletableFuture.failedFuture(GrpcErrors.toStatus(e)));
            } catch (RuntimeException e) {
                admitted.complete(null);
                return CompletableFuture.failedFuture(GrpcErrors.toStatus(e));
            }
        }, ingest.pending(), STREAM_WINDOW, ingest::durableAnswered, streams);
    }

    @Override
    public void initProducer(InitProducerRequest request, StreamObserver<InitProducerResponse> observer) {
        GrpcErrors.reply(observer, () -> node.ingest().initProducer(
                io.strata.server.security.CallIdentity.current().principal()));
    }
}
