package io.strata.server.grpc;

import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.server.StrataNode;
import jakarta.inject.Inject;

/** gRPC adapter of the ingest role; the work is in {@link io.strata.ingest.grpc.ProduceHandler}. */
@GrpcService
public class ProducerEndpoint extends ProducerServiceGrpc.ProducerServiceImplBase {
    @Inject
    StrataNode node;

    @Override
    public void produce(ProduceRequest request, StreamObserver<ProduceResponse> observer) {
        GrpcErrors.reply(observer, () -> node.ingest().produce(request));
    }
}
