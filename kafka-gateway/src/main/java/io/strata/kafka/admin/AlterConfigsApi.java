package io.strata.kafka.admin;

import io.strata.api.v1.AlterTopicRequest;
import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaBackends;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.metadata.CleanupPolicy;
import io.strata.metadata.Topic;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * IncrementalAlterConfigs and (legacy) AlterConfigs for topics, through the same administration as
 * {@code strata topics alter}: a live topic's retention and cleanup change from the next compaction pass on.
 * Incremental: SET, DELETE (back to the default), APPEND and SUBTRACT on the list {@code cleanup.policy}.
 * Legacy: the given configs replace the topic's, the ones not given go back to their defaults. Broker configs
 * are the node's settings and are refused.
 */
public final class AlterConfigsApi implements KafkaApi {
    private final KafkaBackends backends;
    private final boolean incremental;

    private AlterConfigsApi(KafkaBackends backends, boolean incremental) {
        this.backends = backends;
        this.incremental = incremental;
    }

    public static AlterConfigsApi incremental(KafkaBackends backends) {
        return new AlterConfigsApi(backends, true);
    }

    public static AlterConfigsApi legacy(KafkaBackends backends) {
        return new AlterConfigsApi(backends, false);
    }

    @Override
    public ApiKeys key() {
        return incremental ? ApiKeys.INCREMENTAL_ALTER_CONFIGS : ApiKeys.ALTER_CONFIGS;
    }

    /** One resource's change: its type and name, and per config name the new value (null: its default). */
    private record Change(byte type, String name, Map<String, String> values, Map<String, Byte> operations,
                          boolean replaceAll) {
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        List<Change> changes = new ArrayList<>();
        boolean validateOnly;
        if (incremental) {
            IncrementalAlterConfigsRequestData data = ((org.apache.kafka.common.requests.IncrementalAlterConfigsRequest)
                    request.body()).data();
            validateOnly = data.validateOnly();
            for (IncrementalAlterConfigsRequestData.AlterConfigsResource r : data.resources()) {
                Map<String, String> values = new LinkedHashMap<>();
                Map<String, Byte> ops = new LinkedHashMap<>();
                r.configs().forEach(c -> {
                    values.put(c.name(), c.value());
                    ops.put(c.name(), c.configOperation());
                });
                changes.add(new Change(r.resourceType(), r.resourceName(), values, ops, false));
            }
        } else {
            AlterConfigsRequestData data = ((org.apache.kafka.common.requests.AlterConfigsRequest) request.body()).data();
            validateOnly = data.validateOnly();
            for (AlterConfigsRequestData.AlterConfigsResource r : data.resources()) {
                Map<String, String> values = new LinkedHashMap<>();
                r.configs().forEach(c -> values.put(c.name(), c.value()));
                changes.add(new Change(r.resourceType(), r.resourceName(), values, Map.of(), true));
            }
        }
        List<Short> errors = new ArrayList<>();
        List<String> messages = new ArrayList<>();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < changes.size(); i++) {
            errors.add(Errors.NONE.code());
            messages.add(null);
            int at = i;
            all.add(alter(changes.get(i), validateOnly).exceptionally(e -> {
                Throwable cause = KafkaErrors.unwrap(e);
                errors.set(at, cause instanceof TopicConfigs.Invalid invalid ? invalid.error().code()
                        : KafkaErrors.forAdmin(cause).code());
                messages.set(at, cause instanceof TopicConfigs.Invalid ? cause.getMessage() : KafkaErrors.describe(cause));
                return null;
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> {
            if (incremental) {
                IncrementalAlterConfigsResponseData response = new IncrementalAlterConfigsResponseData();
                for (int i = 0; i < changes.size(); i++) {
                    response.responses().add(new IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse()
                            .setResourceType(changes.get(i).type()).setResourceName(changes.get(i).name())
                            .setErrorCode(errors.get(i)).setErrorMessage(messages.get(i)));
                }
                return response;
            }
            AlterConfigsResponseData response = new AlterConfigsResponseData();
            for (int i = 0; i < changes.size(); i++) {
                response.responses().add(new AlterConfigsResponseData.AlterConfigsResourceResponse()
                        .setResourceType(changes.get(i).type()).setResourceName(changes.get(i).name())
                        .setErrorCode(errors.get(i)).setErrorMessage(messages.get(i)));
            }
            return response;
        });
    }

    private CompletableFuture<Void> alter(Change change, boolean validateOnly) {
        if (!TopicConfigs.isTopic(change.type())) {
            return CompletableFuture.failedFuture(new TopicConfigs.Invalid(
                    "only topic configs change over Kafka; a node's settings are set in its configuration"));
        }
        return backends.metadata().getTopic(change.name()).thenCompose(found -> {
            Topic topic = found.orElseThrow(() -> io.grpc.Status.NOT_FOUND
                    .withDescription("unknown topic " + io.strata.metadata.InputText.quoted(change.name())).asRuntimeException());
            AlterTopicRequest.Builder alter = AlterTopicRequest.newBuilder().setName(topic.name());
            if (change.replaceAll()) {
                for (String name : List.of(TopicConfigs.RETENTION_MS, TopicConfigs.RETENTION_BYTES,
                        TopicConfigs.CLEANUP_POLICY, TopicConfigs.DELETE_RETENTION_MS)) {
                    TopicConfigs.apply(alter, name, null);
                }
            }
            for (Map.Entry<String, String> e : change.values().entrySet()) {
                byte op = change.operations().getOrDefault(e.getKey(), (byte) 0);
                TopicConfigs.apply(alter, e.getKey(), switch (op) {
                    case 0 -> e.getValue();
                    case 1 -> null;
                    case 2, 3 -> listChange(topic, e.getKey(), e.getValue(), op == 2);
                    default -> throw new TopicConfigs.Invalid("unknown config operation " + op);
                });
            }
            if (validateOnly || !hasChange(alter)) {
                return CompletableFuture.completedFuture(null);
            }
            return backends.admin().alterTopic(alter.build()).thenApply(d -> null);
        });
    }

    private static boolean hasChange(AlterTopicRequest.Builder alter) {
        return alter.hasRetentionMs() || alter.hasRetentionBytes() || alter.hasCleanupPolicy()
                || alter.hasDeleteRetentionMs();
    }

    /** APPEND and SUBTRACT apply to list configs only: {@code cleanup.policy}. */
    private static String listChange(Topic topic, String name, String value, boolean append) {
        if (!TopicConfigs.CLEANUP_POLICY.equals(name)) {
            throw new TopicConfigs.Invalid((append ? "APPEND" : "SUBTRACT") + " applies to list configs only, not " + name);
        }
        Set<String> policies = new LinkedHashSet<>(List.of(topic.cleanupPolicy().toString().split(",")));
        for (String v : value.split(",")) {
            if (append) {
                policies.add(v.trim());
            } else {
                policies.remove(v.trim());
            }
        }
        if (policies.isEmpty()) {
            throw new TopicConfigs.Invalid("cleanup.policy cannot be empty");
        }
        return CleanupPolicy.parse(String.join(",", policies)).toString();
    }
}
