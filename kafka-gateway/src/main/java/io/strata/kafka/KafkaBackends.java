package io.strata.kafka;

import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.ListOffsetsResponse;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.TopicCache;
import java.util.concurrent.CompletableFuture;

/**
 * What the Kafka door opens onto: the same calls the gRPC services make, so a record produced through one door
 * is the record read through the other. A node without a role has none of its port ({@code null}); the door
 * then sends clients to a node that has it.
 */
public record KafkaBackends(Produce produce, Fetch fetch, Admin admin, io.strata.group.GroupCoordinator groups,
                            MetadataStore metadata, TopicCache topics,
                            io.strata.transactions.coordinator.TransactionCoordinator transactions) {
    public KafkaBackends {
        if (admin == null || groups == null || metadata == null || topics == null) {
            throw new IllegalArgumentException("the Kafka door needs topic administration, the metadata store and the topic cache");
        }
    }

    /** Without transactions (transactional producers are refused). */
    public KafkaBackends(Produce produce, Fetch fetch, Admin admin, io.strata.group.GroupCoordinator groups,
                         MetadataStore metadata, TopicCache topics) {
        this(produce, fetch, admin, groups, metadata, topics, null);
    }

    /**
     * The ingest role: validated, durable appends (failures carry a gRPC status). {@code admitted} completes once
     * the request's records are in the open block or it was refused, so the next request of the same connection
     * can be appended behind it. {@code built[i]} is the header of entry i's batch, which the door built itself
     * from records it checked: the node takes it without inflating it again.
     */
    @FunctionalInterface
    public interface Produce {
        CompletableFuture<ProduceResponse> produce(ProduceRequest request, io.strata.format.BatchInfo[] built,
                                                   CompletableFuture<Void> admitted);
    }

    /** Topic administration, on every node (failures carry a gRPC status). */
    public interface Admin {
        CompletableFuture<io.strata.api.v1.TopicDescription> createTopic(io.strata.api.v1.CreateTopicRequest request);

        CompletableFuture<io.strata.api.v1.TopicDescription> alterTopic(io.strata.api.v1.AlterTopicRequest request);

        CompletableFuture<Void> deleteTopic(String name);

        /** Moves partitions' log starts forward, every offset checked first (the gRPC door's DeleteRecords). */
        CompletableFuture<io.strata.api.v1.DeleteRecordsResponse> deleteRecords(io.strata.api.v1.DeleteRecordsRequest request);
    }

    /** The fetch role: reads and offset look-ups (failures carry a gRPC status). */
    public interface Fetch {
        CompletableFuture<FetchResponse> fetch(FetchRequest request);

        CompletableFuture<ListOffsetsResponse> listOffsets(ListOffsetsRequest request);
    }
}
