package io.strata.kafka.admin;

import io.strata.api.v1.DeleteRecordsRequest;
import io.strata.api.v1.RecordsBefore;
import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaBackends;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DeleteRecords (kafka-delete-records.sh, the admin client's deleteRecords, Kafka Streams' purge of its
 * repartition topics), through the same call as {@code strata topics delete-records}: one call a topic, whose
 * partitions move together. A call refused for one partition's offset is tried again partition by partition, so
 * each partition gets its own answer as from Kafka's brokers.
 */
public final class DeleteRecordsApi implements KafkaApi {
    private final KafkaBackends backends;

    public DeleteRecordsApi(KafkaBackends backends) {
        this.backends = backends;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.DELETE_RECORDS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        DeleteRecordsRequestData data = ((org.apache.kafka.common.requests.DeleteRecordsRequest) request.body()).data();
        DeleteRecordsResponseData response = new DeleteRecordsResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (DeleteRecordsRequestData.DeleteRecordsTopic t : data.topics()) {
            DeleteRecordsResponseData.DeleteRecordsTopicResult topic =
                    new DeleteRecordsResponseData.DeleteRecordsTopicResult().setName(t.name());
            response.topics().add(topic);
            List<DeleteRecordsResponseData.DeleteRecordsPartitionResult> answers = new ArrayList<>();
            for (DeleteRecordsRequestData.DeleteRecordsPartition p : t.partitions()) {
                DeleteRecordsResponseData.DeleteRecordsPartitionResult answer =
                        new DeleteRecordsResponseData.DeleteRecordsPartitionResult().setPartitionIndex(p.partitionIndex())
                                .setLowWatermark(-1).setErrorCode(Errors.NONE.code());
                topic.partitions().add(answer);
                answers.add(answer);
            }
            if (t.partitions().isEmpty()) {
                continue;
            }
            all.add(delete(t.name(), t.partitions(), answers).exceptionallyCompose(e -> {
                if (t.partitions().size() == 1 || !partitionsOwn(e)) {
                    answers.forEach(a -> a.setErrorCode(error(e).code()));
                    return CompletableFuture.completedFuture(null);
                }
                List<CompletableFuture<Void>> each = new ArrayList<>();
                for (int i = 0; i < answers.size(); i++) {
                    DeleteRecordsResponseData.DeleteRecordsPartitionResult answer = answers.get(i);
                    each.add(delete(t.name(), List.of(t.partitions().get(i)), List.of(answer)).exceptionally(f -> {
                        answer.setErrorCode(error(f).code());
                        return null;
                    }));
                }
                return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new));
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    private CompletableFuture<Void> delete(String topic, List<DeleteRecordsRequestData.DeleteRecordsPartition> partitions,
                                           List<DeleteRecordsResponseData.DeleteRecordsPartitionResult> answers) {
        DeleteRecordsRequest.Builder call = DeleteRecordsRequest.newBuilder().setTopic(topic);
        partitions.forEach(p -> call.addPartitions(RecordsBefore.newBuilder().setPartition(p.partitionIndex())
                .setBeforeOffset(p.offset())));
        return backends.admin().deleteRecords(call.build()).thenAccept(r -> {
            for (int i = 0; i < answers.size(); i++) {
                answers.get(i).setLowWatermark(r.getPartitions(i).getLogStartOffset());
            }
        });
    }

    /** Whether the refusal may be one partition's alone (its offset, its index), not the whole topic's. */
    private static boolean partitionsOwn(Throwable failure) {
        return switch (KafkaErrors.code(failure)) {
            case OUT_OF_RANGE, INVALID_ARGUMENT, NOT_FOUND -> true;
            default -> false;
        };
    }

    private static Errors error(Throwable failure) {
        return switch (KafkaErrors.code(failure)) {
            case OUT_OF_RANGE, INVALID_ARGUMENT -> Errors.OFFSET_OUT_OF_RANGE;
            case FAILED_PRECONDITION -> Errors.POLICY_VIOLATION;
            case NOT_FOUND -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
            default -> KafkaErrors.forAdmin(failure);
        };
    }
}
