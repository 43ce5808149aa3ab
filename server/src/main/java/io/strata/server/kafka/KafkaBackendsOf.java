package io.strata.server.kafka;

import io.strata.api.v1.AlterTopicRequest;
import io.strata.api.v1.CreateTopicRequest;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.ListOffsetsResponse;
import io.strata.api.v1.TopicDescription;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.group.GroupCoordinator;
import io.strata.ingest.grpc.ProduceHandler;
import io.strata.kafka.KafkaBackends;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.TopicCache;
import io.strata.server.admin.AdminHandler;
import io.strata.server.grpc.GrpcErrors;
import java.util.concurrent.CompletableFuture;

/**
 * The Kafka door's ports over a node's handlers, the very ones its gRPC services call: a role the node does
 * not run is no port ({@code null}), and the door sends clients to a node that runs it. Failures reach the door
 * as the gRPC status the gRPC door would answer ({@link GrpcErrors}), so both doors tell a client the same.
 */
public final class KafkaBackendsOf {
    private KafkaBackendsOf() {
    }

    public static KafkaBackends node(ProduceHandler produce, FetchHandler fetch, AdminHandler admin,
                                     GroupCoordinator groups, MetadataStore metadata, TopicCache topics,
                                     io.strata.transactions.coordinator.TransactionCoordinator transactions) {
        return new KafkaBackends(produce == null ? null
                : (request, built, admitted) -> statused(produce.produceInOrder(request, built, admitted)),
                fetch == null ? null : reads(fetch),
                topicAdmin(admin), groups, metadata, topics, transactions);
    }

    private static KafkaBackends.Fetch reads(FetchHandler fetch) {
        return new KafkaBackends.Fetch() {
            @Override
            public CompletableFuture<FetchResponse> fetch(FetchRequest request) {
                return statused(fetch.fetch(request));
            }

            @Override
            public CompletableFuture<ListOffsetsResponse> listOffsets(ListOffsetsRequest request) {
                return statused(fetch.listOffsets(request));
            }
        };
    }

    private static KafkaBackends.Admin topicAdmin(AdminHandler admin) {
        return new KafkaBackends.Admin() {
            @Override
            public CompletableFuture<TopicDescription> createTopic(CreateTopicRequest request) {
                return statused(admin.createTopic(request));
            }

            @Override
            public CompletableFuture<TopicDescription> alterTopic(AlterTopicRequest request) {
                return statused(admin.alterTopic(request));
            }

            @Override
            public CompletableFuture<Void> deleteTopic(String name) {
                return statused(admin.deleteTopic(name).thenApply(r -> null));
            }

            @Override
            public CompletableFuture<io.strata.api.v1.DeleteRecordsResponse> deleteRecords(
                    io.strata.api.v1.DeleteRecordsRequest request) {
                return statused(admin.deleteRecords(request));
            }
        };
    }

    private static <T> CompletableFuture<T> statused(CompletableFuture<T> call) {
        return call.exceptionallyCompose(e -> CompletableFuture.failedFuture(GrpcErrors.toStatus(e)));
    }
}
