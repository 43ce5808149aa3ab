package io.strata.kafka.admin;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaBackends;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.cluster.TopicIds;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** DeleteTopics by name or (version 6) by id, through the same topic administration as {@code strata topics delete}. */
public final class DeleteTopicsApi implements KafkaApi {
    private final KafkaBackends backends;
    private final TopicIds topicIds;

    public DeleteTopicsApi(KafkaBackends backends, TopicIds topicIds) {
        this.backends = backends;
        this.topicIds = topicIds;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.DELETE_TOPICS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        DeleteTopicsRequestData data = ((org.apache.kafka.common.requests.DeleteTopicsRequest) request.body()).data();
        List<DeleteTopicsRequestData.DeleteTopicState> asked = new ArrayList<>(data.topics());
        data.topicNames().forEach(n -> asked.add(new DeleteTopicsRequestData.DeleteTopicState().setName(n)));
        DeleteTopicsResponseData response = new DeleteTopicsResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (DeleteTopicsRequestData.DeleteTopicState t : asked) {
            DeleteTopicsResponseData.DeletableTopicResult result = new DeleteTopicsResponseData.DeletableTopicResult()
                    .setName(t.name()).setTopicId(t.topicId() == null ? Uuid.ZERO_UUID : t.topicId())
                    .setErrorCode(Errors.NONE.code());
            response.responses().add(result);
            boolean byId = t.name() == null || t.name().isEmpty();
            all.add(topicIds.resolve(t.name(), t.topicId(), backends.topics()).thenCompose(found -> {
                if (found.isEmpty()) {
                    result.setErrorCode((byId ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION).code());
                    return CompletableFuture.completedFuture(null);
                }
                result.setName(found.get().name()).setTopicId(TopicIds.uuidOf(found.get()));
                return backends.admin().deleteTopic(found.get().name());
            }).exceptionally(e -> {
                Errors error = KafkaErrors.forAdmin(e);
                result.setErrorCode(error.code()).setErrorMessage(KafkaErrors.describe(e));
                return null;
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }
}
