package io.strata.kafka.txn;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicCache;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.coordinator.TransactionCoordinator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * Kafka's WriteTxnMarkers as an operator sends it: {@code kafka-transactions.sh abort} (the admin client's
 * abortTransaction) ends a hanging transaction found by {@code find-hanging}, naming its producer, epoch and a
 * partition it holds. Between Kafka's brokers it is how a coordinator writes a transaction's outcome to each
 * partition; Strata's coordinator keeps a transaction in one record instead (docs/transactions.md), so an abort
 * here aborts that whole transaction and fences its producer, as {@code strata transactions abort} does. Commit
 * markers are refused: only a transaction's own producer commits it.
 *
 * <p>Per partition: the producer's open transaction holding it (found by the producer id and Kafka epoch its
 * records carry, {@link DescribeProducersApi}) is aborted, answering NONE; NONE too when none of the producer's
 * is open there (it ended: nothing hangs); INVALID_PRODUCER_EPOCH when the producer's open transaction is under
 * another epoch; UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist.
 *
 * <p>A marker names a producer and epoch, not one transaction: every transaction of a producer shares its Kafka
 * epoch. {@code kafka-transactions.sh abort} finds the producer by the start offset of its transaction on the
 * partition just before sending the marker, so a transaction that ended and a next one that began in between
 * (milliseconds) would be the one aborted, as with Kafka's brokers; an abort built by hand from an older
 * DescribeProducers answer may end a healthy transaction and fence its producer.
 */
public final class WriteTxnMarkersApi implements KafkaApi {
    /** Partitions one request may name (over all its markers); those past it are answered POLICY_VIOLATION, untouched. */
    static final int MAX_PARTITIONS = io.strata.kafka.admin.AclApis.MAX_PER_REQUEST;

    private final TransactionCoordinator coordinator;
    private final MetadataStore metadata;
    private final TopicCache topics;

    public WriteTxnMarkersApi(TransactionCoordinator coordinator, MetadataStore metadata, TopicCache topics) {
        this.coordinator = coordinator;
        this.metadata = metadata;
        this.topics = topics;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.WRITE_TXN_MARKERS;
    }

    /** What to do for one partition of a marker, decided from the open transactions (pure). */
    sealed interface Decision {
        record Abort(TransactionRecord open) implements Decision {
        }

        record Answer(Errors error) implements Decision {
        }
    }

    /** The producer's open transaction holding the partition, if any, under the marker's epoch. */
    static Decision decide(long producerId, short producerEpoch, boolean commit, long topicId, int partition,
                           Map<Long, List<TransactionRecord>> openByProducer) {
        if (commit) {
            return new Decision.Answer(Errors.INVALID_REQUEST); // only its own producer commits a transaction
        }
        boolean otherEpoch = false;
        for (TransactionRecord r : openByProducer.getOrDefault(producerId, List.of())) {
            boolean holds = r.partitions().stream().anyMatch(p -> p.topicId() == topicId && p.partition() == partition);
            if (!holds) {
                continue;
            }
            if ((int) (r.txnEpoch() >>> 32) == producerEpoch) {
                return new Decision.Abort(r);
            }
            otherEpoch = true;
        }
        return new Decision.Answer(otherEpoch ? Errors.INVALID_PRODUCER_EPOCH : Errors.NONE);
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        WriteTxnMarkersRequestData data = request.data();
        WriteTxnMarkersResponseData response = new WriteTxnMarkersResponseData();
        return metadata.transactions().snapshot().thenApply(DescribeProducersApi::openByProducer).thenCompose(open -> {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            // One abort for each transaction, however many of its partitions the request names.
            Map<String, CompletableFuture<?>> aborts = new java.util.concurrent.ConcurrentHashMap<>();
            int count = 0;
            for (WriteTxnMarkersRequestData.WritableTxnMarker marker : data.markers()) {
                var result = new WriteTxnMarkersResponseData.WritableTxnMarkerResult()
                        .setProducerId(marker.producerId());
                response.markers().add(result);
                for (WriteTxnMarkersRequestData.WritableTxnMarkerTopic t : marker.topics()) {
                    var topicResult = new WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult().setName(t.name());
                    result.topics().add(topicResult);
                    CompletableFuture<Optional<Topic>> topic = null;
                    for (int partition : t.partitionIndexes()) {
                        var answer = new WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult()
                                .setPartitionIndex(partition).setErrorCode(Errors.NONE.code());
                        topicResult.partitions().add(answer);
                        if (++count > MAX_PARTITIONS) {
                            answer.setErrorCode(Errors.POLICY_VIOLATION.code());
                            continue;
                        }
                        if (topic == null) {
                            topic = topics.get(t.name(),
                                    t.partitionIndexes().stream().mapToInt(Integer::intValue).max().orElse(-1));
                        }
                        all.add(topic.thenCompose(found -> {
                            if (found.isEmpty() || partition < 0 || partition >= found.get().partitions()) {
                                answer.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                                return CompletableFuture.completedFuture(null);
                            }
                            Decision d = decide(marker.producerId(), marker.producerEpoch(),
                                    marker.transactionResult(), found.get().topicId(), partition, open);
                            if (d instanceof Decision.Answer a) {
                                answer.setErrorCode(a.error().code());
                                return CompletableFuture.completedFuture(null);
                            }
                            TransactionRecord r = ((Decision.Abort) d).open();
                            return aborts.computeIfAbsent(r.transactionalId() + "/" + r.txnProducerId() + "/"
                                    + r.txnEpoch(), k -> coordinator.forceAbort(r.transactionalId(), r.txnProducerId(),
                                    r.txnEpoch())).<Void>thenApply(after -> null);
                        }).exceptionally(e -> {
                            answer.setErrorCode(KafkaErrors.forRead(e).code());
                            return null;
                        }));
                    }
                }
            }
            return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> (ApiMessage) response);
        });
    }
}
