package io.strata.server.grpc;

import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.AlterTopicRequest;
import io.strata.api.v1.CreateTopicRequest;
import io.strata.api.v1.DeleteRecordsRequest;
import io.strata.api.v1.DeleteRecordsResponse;
import io.strata.api.v1.DeleteTopicRequest;
import io.strata.api.v1.DeleteTopicResponse;
import io.strata.api.v1.DescribeTopicRequest;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.ListOffsetsResponse;
import io.strata.api.v1.ListTopicsRequest;
import io.strata.api.v1.ListTopicsResponse;
import io.strata.api.v1.TopicDescription;
import io.strata.server.StrataNode;
import jakarta.inject.Inject;

/**
 * gRPC adapter of topic management and offset look-ups (every node: a fetch node's look-ups on a node without the
 * fetch role).
 * Blocking: the embedded metadata store may sync to disk on the calling thread, which must not be an event loop.
 */
@GrpcService
@Blocking
public class AdminEndpoint extends AdminServiceGrpc.AdminServiceImplBase {
    @Inject
    StrataNode node;

    @Override
    public void createTopic(CreateTopicRequest request, StreamObserver<TopicDescription> observer) {
        GrpcErrors.reply(observer, () -> node.admin().createTopic(request));
    }

    @Override
    public void alterTopic(AlterTopicRequest request, StreamObserver<TopicDescription> observer) {
        GrpcErrors.reply(observer, () -> node.admin().alterTopic(request));
    }

    @Override
    public void deleteTopic(DeleteTopicRequest request, StreamObserver<DeleteTopicResponse> observer) {
        GrpcErrors.reply(observer, () -> node.admin().deleteTopic(request.getName()));
    }

    @Override
    public void deleteRecords(DeleteRecordsRequest request, StreamObserver<DeleteRecordsResponse> observer) {
        GrpcErrors.reply(observer, () -> node.admin().deleteRecords(request));
    }

    @Override
    public void listTopics(ListTopicsRequest request, StreamObserver<ListTopicsResponse> observer) {
        GrpcErrors.reply(observer, () -> node.admin().listTopics(request.getWithPartitionDetails()));
    }

    @Override
    public void describeTopic(DescribeTopicRequest request, StreamObserver<TopicDescription> observer) {
        GrpcErrors.reply(observer, () -> node.admin().describeTopic(request.getName(), request.getSkipPartitionDetails()));
    }

    @Override
    public void listOffsets(ListOffsetsRequest request, StreamObserver<ListOffsetsResponse> observer) {
        GrpcErrors.reply(observer, () -> node.reads().listOffsets(request));
    }
}
