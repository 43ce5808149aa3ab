package io.strata.kafka.fetch;

import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.OffsetSpec;
import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaBackends;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.metadata.Topic;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.ListOffsetsResponse;

/**
 * ListOffsets: earliest and latest from the fetch role's index where this node runs it (the bounds its reads
 * answer with), else from the committed offsets in the metadata store; by timestamp through the fetch role's
 * index alone. Offered up to version 6: version 7 adds the offset of the largest timestamp, which Strata does
 * not index.
 */
public final class ListOffsetsApi implements KafkaApi {
    private final KafkaBackends backends;

    public ListOffsetsApi(KafkaBackends backends) {
        this.backends = backends;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.LIST_OFFSETS;
    }

    @Override
    public short minVersion() {
        return 1;
    }

    @Override
    public short maxVersion() {
        return 6;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        ListOffsetsRequestData data = ((org.apache.kafka.common.requests.ListOffsetsRequest) request.body()).data();
        ListOffsetsResponseData response = new ListOffsetsResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (ListOffsetsRequestData.ListOffsetsTopic t : data.topics()) {
            ListOffsetsResponseData.ListOffsetsTopicResponse topicAnswer =
                    new ListOffsetsResponseData.ListOffsetsTopicResponse().setName(t.name());
            response.topics().add(topicAnswer);
            CompletableFuture<Optional<Topic>> topic = backends.topics().get(t.name(),
                    t.partitions().stream().mapToInt(ListOffsetsRequestData.ListOffsetsPartition::partitionIndex).max()
                            .orElse(-1));
            for (ListOffsetsRequestData.ListOffsetsPartition p : t.partitions()) {
                ListOffsetsResponseData.ListOffsetsPartitionResponse answer =
                        new ListOffsetsResponseData.ListOffsetsPartitionResponse().setPartitionIndex(p.partitionIndex())
                                .setErrorCode(Errors.NONE.code()).setTimestamp(-1).setOffset(-1).setLeaderEpoch(-1);
                topicAnswer.partitions().add(answer);
                all.add(topic.thenCompose(found -> {
                    if (found.isEmpty() || p.partitionIndex() < 0 || p.partitionIndex() >= found.get().partitions()) {
                        answer.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                        return CompletableFuture.completedFuture(null);
                    }
                    return lookUp(found.get(), p.partitionIndex(), p.timestamp(), data.isolationLevel() == 1, answer);
                }).exceptionally(e -> {
                    answer.setErrorCode(KafkaErrors.forRead(e).code());
                    return null;
                }));
            }
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                .thenApply(v -> response);
    }

    private CompletableFuture<Void> lookUp(Topic topic, int partition, long timestamp, boolean readCommitted,
                                           ListOffsetsResponseData.ListOffsetsPartitionResponse answer) {
        boolean earliest = timestamp == org.apache.kafka.common.requests.ListOffsetsRequest.EARLIEST_TIMESTAMP;
        boolean latest = timestamp == org.apache.kafka.common.requests.ListOffsetsRequest.LATEST_TIMESTAMP;
        if (!earliest && !latest && timestamp < 0) {
            answer.setErrorCode(Errors.INVALID_REQUEST.code());
            return CompletableFuture.completedFuture(null);
        }
        if (backends.fetch() == null) {
            if (!earliest && !latest) {
                answer.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code()); // offsets by time need the fetch index
                return CompletableFuture.completedFuture(null);
            }
            if (latest && readCommitted) {
                // No fetch index here: the last stable offset from the transactions as stored (a rare call).
                return backends.metadata().offsets(topic.partition(partition)).thenCombine(
                        backends.metadata().transactions().snapshot(), (o, txns) -> {
                            io.strata.transactions.StableOffsets stable = new io.strata.transactions.StableOffsets();
                            txns.records().forEach(n -> stable.apply(n.transactionalId(),
                                    io.strata.transactions.TransactionCodec.decode(n.stored().record())));
                            return stable.lastStable(topic.topicId(), partition, o.nextOffset());
                        }).thenAccept(answer::setOffset);
            }
            return backends.metadata().offsets(topic.partition(partition)).thenAccept(o ->
                    answer.setOffset(earliest ? o.logStartOffset() : o.nextOffset()));
        }
        ListOffsetsRequest.Builder strata = ListOffsetsRequest.newBuilder().setTopic(topic.name()).setPartition(partition)
                .setIsolationLevel(readCommitted ? io.strata.api.v1.IsolationLevel.ISOLATION_LEVEL_READ_COMMITTED
                        : io.strata.api.v1.IsolationLevel.ISOLATION_LEVEL_READ_UNCOMMITTED);
        if (earliest || latest) {
            strata.setPosition(earliest ? OffsetSpec.OFFSET_SPEC_EARLIEST : OffsetSpec.OFFSET_SPEC_LATEST);
        } else {
            strata.setTimestampMs(timestamp);
        }
        return backends.fetch().listOffsets(strata.build()).thenAccept(r -> {
            answer.setOffset(r.getOffset()).setTimestamp(r.getTimestampMs());
            if (!earliest && !latest && r.getTimestampMs() < 0) {
                answer.setOffset(-1); // no record at or after the time: Kafka answers offset -1
            }
        });
    }
}
