package io.strata.server.grpc;

import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.strata.api.v1.ShareAcknowledgeRequest;
import io.strata.api.v1.ShareAcknowledgeResponse;
import io.strata.api.v1.ShareFetchRequest;
import io.strata.api.v1.ShareFetchResponse;
import io.strata.api.v1.ShareServiceGrpc;
import io.strata.server.StrataNode;
import jakarta.inject.Inject;

/** gRPC adapter of share groups; the work is in {@link io.strata.fetch.share.ShareHandler}. */
@GrpcService
public class ShareEndpoint extends ShareServiceGrpc.ShareServiceImplBase {
    @Inject
    StrataNode node;

    @Override
    public void shareFetch(ShareFetchRequest request, StreamObserver<ShareFetchResponse> observer) {
        GrpcErrors.reply(observer, () -> node.fetchRole().shares().shareFetch(request));
    }

    @Override
    public void shareAcknowledge(ShareAcknowledgeRequest request, StreamObserver<ShareAcknowledgeResponse> observer) {
        GrpcErrors.reply(observer, () -> node.fetchRole().shares().shareAcknowledge(request));
    }

    @Override
    public void listShareGroups(io.strata.api.v1.ListShareGroupsRequest request,
                                StreamObserver<io.strata.api.v1.ListShareGroupsResponse> observer) {
        GrpcErrors.reply(observer, () -> node.shareGroups().list());
    }

    @Override
    public void describeShareGroup(io.strata.api.v1.DescribeShareGroupRequest request,
                                   StreamObserver<io.strata.api.v1.ShareGroupDescription> observer) {
        GrpcErrors.reply(observer, () -> node.shareGroups().describe(request.getGroup()));
    }

    @Override
    public void deleteShareGroup(io.strata.api.v1.DeleteShareGroupRequest request,
                                 StreamObserver<io.strata.api.v1.DeleteShareGroupResponse> observer) {
        GrpcErrors.reply(observer, () -> node.shareGroups().delete(request.getGroup(), request.getForce()));
    }
}
