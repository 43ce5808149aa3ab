package io.strata.server.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.SubscribeRequest;
import io.strata.api.v1.SubscribeResponse;
import io.strata.server.StrataNode;
import jakarta.inject.Inject;

/** gRPC adapter of the fetch role; the work is in {@link io.strata.fetch.grpc.FetchHandler}. */
@GrpcService
public class FetchEndpoint extends FetchServiceGrpc.FetchServiceImplBase {
    @Inject
    StrataNode node;
    @Inject
    io.strata.server.security.AccessControl access;

    @Override
    public void fetch(FetchRequest request, StreamObserver<FetchResponse> observer) {
        GrpcErrors.reply(observer, () -> node.reads().fetch(request)); // a fetch node's on a node without the role
    }

    @Override
    public void fetchChunks(FetchRequest request, StreamObserver<FetchChunksResponse> observer) {
        GrpcErrors.reply(observer, () -> node.fetch().fetchChunks(request));
    }

    @Override
    public void subscribe(SubscribeRequest request, StreamObserver<SubscribeResponse> observer) {
        try {
            // A stream lives long: the caller's right to read is asked again at each step (an ACL removed, a
            // user deleted), not only when it opened.
            io.strata.security.Identity who = io.strata.server.security.CallIdentity.current();
            io.strata.security.Need need = io.strata.security.Need.topic(
                    io.strata.metadata.security.AclOperation.CONSUME, request.getTopic());
            node.fetch().subscribe(request, (ServerCallStreamObserver<SubscribeResponse>) observer,
                    node.fetchRole().streams(), GrpcErrors::toStatus, () -> access.stillAllowed(who, need));
        } catch (RuntimeException e) {
            observer.onError(GrpcErrors.toStatus(e));
        }
    }
}
