package io.strata.kafka.admin;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaBackends;
import io.strata.kafka.KafkaRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeConfigs: a topic's configs ({@link TopicConfigs}); a broker's are the node's settings, which are set in
 * its configuration and not over Kafka, so a broker is described with none.
 */
public final class DescribeConfigsApi implements KafkaApi {
    private final KafkaBackends backends;
    private final int maxMessageBytes;

    public DescribeConfigsApi(KafkaBackends backends, int maxMessageBytes) {
        this.backends = backends;
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.DESCRIBE_CONFIGS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        DescribeConfigsRequestData data = ((org.apache.kafka.common.requests.DescribeConfigsRequest) request.body())
                .data();
        DescribeConfigsResponseData response = new DescribeConfigsResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (DescribeConfigsRequestData.DescribeConfigsResource r : data.resources()) {
            DescribeConfigsResponseData.DescribeConfigsResult result = new DescribeConfigsResponseData.DescribeConfigsResult()
                    .setResourceType(r.resourceType()).setResourceName(r.resourceName()).setErrorCode(Errors.NONE.code());
            response.results().add(result);
            if (r.resourceType() == ConfigResource.Type.BROKER.id()
                    || r.resourceType() == ConfigResource.Type.BROKER_LOGGER.id()) {
                continue;
            }
            if (!TopicConfigs.isTopic(r.resourceType())) {
                result.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("only topics and brokers have configs here");
                continue;
            }
            all.add(backends.metadata().getTopic(r.resourceName()).thenAccept(found -> { // fresh: a change on another node shows at once
                if (found.isEmpty()) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                            .setErrorMessage("unknown topic " + io.strata.metadata.InputText.quoted(r.resourceName()));
                } else {
                    result.setConfigs(TopicConfigs.describe(found.get(), r.configurationKeys(), maxMessageBytes));
                }
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }
}
