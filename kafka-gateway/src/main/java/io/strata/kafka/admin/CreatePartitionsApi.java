package io.strata.kafka.admin;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.AlterTopicRequest;
import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaBackends;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * CreatePartitions, through the same topic administration as {@code strata topics alter --partitions}: a topic
 * grows to the count asked for; the new partitions start empty. Replica assignments, where a client sends
 * them, must name one replica set per new partition and are otherwise ignored (every node serves every
 * partition). {@code validate_only} checks everything and changes nothing. Each topic gets its own answer.
 */
public final class CreatePartitionsApi implements KafkaApi {
    private final KafkaBackends backends;

    public CreatePartitionsApi(KafkaBackends backends) {
        this.backends = backends;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.CREATE_PARTITIONS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        CreatePartitionsRequestData data =
                ((org.apache.kafka.common.requests.CreatePartitionsRequest) request.body()).data();
        CreatePartitionsResponseData response = new CreatePartitionsResponseData();
        Set<String> seen = new HashSet<>();
        Set<String> duplicated = new HashSet<>();
        data.topics().forEach(t -> {
            if (!seen.add(t.name())) {
                duplicated.add(t.name());
            }
        });
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (CreatePartitionsRequestData.CreatePartitionsTopic t : data.topics()) {
            CreatePartitionsResponseData.CreatePartitionsTopicResult result =
                    new CreatePartitionsResponseData.CreatePartitionsTopicResult().setName(t.name())
                            .setErrorCode(Errors.NONE.code());
            response.results().add(result);
            if (duplicated.contains(t.name())) {
                fail(result, Errors.INVALID_REQUEST, "topic " + io.strata.metadata.InputText.quoted(t.name()) + " is named more than once");
                continue;
            }
            if (t.count() < 1 || t.count() > TopicConfig.MAX_PARTITIONS) {
                fail(result, Errors.INVALID_PARTITIONS, "a topic has 1 to " + TopicConfig.MAX_PARTITIONS
                        + " partitions, not " + t.count());
                continue;
            }
            // The store's own copy, not the node's cache: whether the count grows is decided against it.
            all.add(backends.metadata().getTopic(t.name()).thenCompose(found -> {
                if (found.isEmpty()) {
                    fail(result, Errors.UNKNOWN_TOPIC_OR_PARTITION, "unknown topic " + io.strata.metadata.InputText.quoted(t.name()));
                    return CompletableFuture.completedFuture(null);
                }
                Topic topic = found.get();
                if (t.count() <= topic.partitions()) {
                    fail(result, Errors.INVALID_PARTITIONS, t.count() == topic.partitions()
                            ? "topic already has " + topic.partitions() + " partitions"
                            : "topic currently has " + topic.partitions() + " partitions, which is higher than the "
                            + "requested " + t.count() + " (partitions are added, never removed)");
                    return CompletableFuture.completedFuture(null);
                }
                if (t.assignments() != null && t.assignments().size() != t.count() - topic.partitions()) {
                    fail(result, Errors.INVALID_REPLICA_ASSIGNMENT, "increasing the partition count by "
                            + (t.count() - topic.partitions()) + " takes as many assignments, not "
                            + t.assignments().size());
                    return CompletableFuture.completedFuture(null);
                }
                if (data.validateOnly()) {
                    return CompletableFuture.completedFuture(null);
                }
                return backends.admin().alterTopic(AlterTopicRequest.newBuilder().setName(topic.name())
                        .setPartitions(t.count()).build()).thenAccept(d -> backends.topics().invalidate(topic.name()));
            }).exceptionally(e -> {
                fail(result, errorOf(e), KafkaErrors.describe(e));
                return null;
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    /**
     * The store refuses a count below the topic's (another caller grew it further meanwhile); two callers growing
     * it to the same count meanwhile both succeed, where Kafka would refuse the second.
     */
    private static Errors errorOf(Throwable failure) {
        Throwable t = KafkaErrors.unwrap(failure);
        if (t instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
            return Errors.INVALID_PARTITIONS;
        }
        return KafkaErrors.forAdmin(t);
    }

    private static void fail(CreatePartitionsResponseData.CreatePartitionsTopicResult result, Errors error,
                             String message) {
        result.setErrorCode(error.code()).setErrorMessage(message);
    }
}
