package io.strata.kafka.admin;

import io.strata.api.v1.CreateTopicRequest;
import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaBackends;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.cluster.TopicIds;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import io.strata.metadata.TopicExistsException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * CreateTopics, through the same topic administration as {@code strata topics create}. A partition count of -1
 * takes one partition (Kafka's {@code num.partitions}); a replication factor is accepted and means nothing
 * (durability is the object store's); manual replica assignments only count partitions. Each topic gets its
 * own answer; {@code validate_only} checks everything and creates nothing.
 */
public final class CreateTopicsApi implements KafkaApi {
    private final KafkaBackends backends;
    private final int maxMessageBytes;

    public CreateTopicsApi(KafkaBackends backends, int maxMessageBytes) {
        this.backends = backends;
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.CREATE_TOPICS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        CreateTopicsRequestData data = ((org.apache.kafka.common.requests.CreateTopicsRequest) request.body()).data();
        CreateTopicsResponseData response = new CreateTopicsResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (CreateTopicsRequestData.CreatableTopic t : data.topics()) {
            CreateTopicsResponseData.CreatableTopicResult result = new CreateTopicsResponseData.CreatableTopicResult()
                    .setName(t.name()).setTopicId(Uuid.ZERO_UUID).setErrorCode(Errors.NONE.code())
                    .setNumPartitions(-1).setReplicationFactor((short) -1);
            response.topics().add(result);
            CreateTopicRequest create;
            try {
                create = request(t);
            } catch (TopicConfigs.Invalid e) {
                result.setErrorCode(e.error().code()).setErrorMessage(e.getMessage());
                continue;
            } catch (IllegalArgumentException e) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(e.getMessage());
                continue;
            }
            if (!TopicConfig.validName(t.name())) {
                result.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code()).setErrorMessage("invalid topic name "
                        + io.strata.metadata.InputText.quoted(t.name()) + ": 1 to 249 of A-Z a-z 0-9 . _ -");
                continue;
            }
            if (create.getPartitions() < 1 || create.getPartitions() > TopicConfig.MAX_PARTITIONS) {
                result.setErrorCode(Errors.INVALID_PARTITIONS.code()).setErrorMessage("a topic has 1 to "
                        + TopicConfig.MAX_PARTITIONS + " partitions, not " + create.getPartitions());
                continue;
            }
            CompletableFuture<Void> done = data.validateOnly()
                    ? backends.topics().get(t.name()).thenAccept(found -> {
                        if (found.isPresent()) {
                            result.setErrorCode(Errors.TOPIC_ALREADY_EXISTS.code())
                                    .setErrorMessage("topic '" + t.name() + "' already exists");
                        } else {
                            result.setNumPartitions(create.getPartitions()).setReplicationFactor((short) 1);
                        }
                    })
                    : backends.admin().createTopic(create).thenCompose(d -> backends.topics().get(d.getName()))
                            .thenAccept(found -> found.ifPresent(topic -> describe(result, topic)));
            all.add(done.exceptionally(e -> {
                Throwable cause = KafkaErrors.unwrap(e);
                if (cause instanceof TopicExistsException || KafkaErrors.isAlreadyExists(cause)) {
                    result.setErrorCode(Errors.TOPIC_ALREADY_EXISTS.code())
                            .setErrorMessage("topic '" + t.name() + "' already exists");
                } else {
                    result.setErrorCode(KafkaErrors.forAdmin(cause).code()).setErrorMessage(KafkaErrors.describe(cause));
                }
                return null;
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    private void describe(CreateTopicsResponseData.CreatableTopicResult result, Topic topic) {
        result.setTopicId(TopicIds.uuidOf(topic)).setNumPartitions(topic.partitions()).setReplicationFactor((short) 1);
        for (var c : TopicConfigs.describe(topic, null, maxMessageBytes)) {
            result.configs().add(new CreateTopicsResponseData.CreatableTopicConfigs().setName(c.name())
                    .setValue(c.value()).setReadOnly(c.readOnly()).setConfigSource(c.configSource())
                    .setIsSensitive(false));
        }
    }

    private static CreateTopicRequest request(CreateTopicsRequestData.CreatableTopic t) {
        int partitions = t.numPartitions();
        if (!t.assignments().isEmpty()) {
            if (partitions != -1) {
                throw new IllegalArgumentException("give either a partition count or replica assignments, not both");
            }
            partitions = t.assignments().size();
        }
        CreateTopicRequest.Builder create = CreateTopicRequest.newBuilder().setName(t.name())
                .setPartitions(partitions == -1 ? 1 : partitions).setRetentionMs(-1).setRetentionBytes(-1);
        for (CreateTopicsRequestData.CreatableTopicConfig c : t.configs()) {
            TopicConfigs.apply(create, c.name(), c.value());
        }
        return create.build();
    }
}
