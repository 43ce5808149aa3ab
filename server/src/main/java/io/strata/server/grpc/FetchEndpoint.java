package io.strata.server.grpc;

import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.server.StrataNode;
import jakarta.inject.Inject;

/** gRPC adapter of the fetch role; the work is in {@link io.strata.fetch.grpc.FetchHandler}. */
@GrpcService
public class FetchEndpoint extends FetchServiceGrpc.FetchServiceImplBase {
    @Inject
    StrataNode node;

    @Override
    public void fetch(FetchRequest request, StreamObserver<FetchResponse> observer) {
        GrpcErrors.reply(observer, () -> node.fetch().fetch(request));
    }
}
