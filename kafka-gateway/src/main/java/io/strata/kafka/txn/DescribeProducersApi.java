package io.strata.kafka.txn;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.produce.InitProducerIdApi;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.ProducerState;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicCache;
import io.strata.transactions.TransactionCodec;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.TxnPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * Kafka's DescribeProducers ({@code kafka-transactions.sh describe-producers} and {@code find-hanging}): the
 * producers a partition's commits know, each with the transaction it has open there, if any. Any node answers
 * for any partition: the producers' states are the partition heads' (docs/kafka.md, "Transactions").
 *
 * <p>How Strata's state reads in Kafka's terms: a batch of an idempotent producer carries no epoch, and the door
 * issues every such id at {@link InitProducerIdApi#EPOCH}, so that is its epoch; a transactional batch carries its
 * transaction's epoch, whose upper half is the producer's Kafka epoch ({@link TransactionRecord#txnEpoch()}). A
 * producer's open transaction on the partition, and where it started there, come from the transactional ids'
 * records (one read of them a request, only when a transactional producer is among the answers). There is no
 * coordinator epoch: -1.
 */
public final class DescribeProducersApi implements KafkaApi {
    /** Partitions one request may ask about; those past it are answered POLICY_VIOLATION, unread. */
    static final int MAX_PARTITIONS = 1_000;

    private final MetadataStore metadata;
    private final TopicCache topics;

    public DescribeProducersApi(MetadataStore metadata, TopicCache topics) {
        this.metadata = metadata;
        this.topics = topics;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.DESCRIBE_PRODUCERS;
    }

    /** One partition asked about: its answer, and its topic as found (empty when there is none). */
    private record Asked(DescribeProducersResponseData.PartitionResponse answer, CompletableFuture<Optional<Topic>> topic) {
        /** The partition, when it exists (the topic found, its future done). */
        PartitionId partition() {
            Optional<Topic> found = topic.join();
            int index = answer.partitionIndex();
            return found.isEmpty() || index < 0 || index >= found.get().partitions() ? null
                    : new PartitionId(found.get().topicId(), index);
        }
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        DescribeProducersRequestData data = request.data();
        DescribeProducersResponseData response = new DescribeProducersResponseData();
        // A list, not a map keyed by answer: Kafka's messages are equal by value (partition 0 of two topics).
        List<Asked> asked = new ArrayList<>();
        int count = 0;
        for (DescribeProducersRequestData.TopicRequest t : data.topics()) {
            var topicAnswer = new DescribeProducersResponseData.TopicResponse().setName(t.name());
            response.topics().add(topicAnswer);
            int highest = t.partitionIndexes().stream().mapToInt(Integer::intValue).max().orElse(-1);
            CompletableFuture<Optional<Topic>> topic = null;
            for (int partition : t.partitionIndexes()) {
                var answer = new DescribeProducersResponseData.PartitionResponse().setPartitionIndex(partition)
                        .setErrorCode(Errors.NONE.code());
                topicAnswer.partitions().add(answer);
                if (++count > MAX_PARTITIONS) {
                    answer.setErrorCode(Errors.POLICY_VIOLATION.code()).setErrorMessage("at most " + MAX_PARTITIONS
                            + " partitions a request");
                    continue;
                }
                if (topic == null) {
                    topic = topics.get(t.name(), highest);
                }
                asked.add(new Asked(answer, topic));
            }
        }
        return CompletableFuture.allOf(asked.stream().map(a -> a.topic().handle((v, e) -> null))
                .toArray(CompletableFuture[]::new)).thenCompose(v -> {
                    List<PartitionId> partitions = new ArrayList<>();
                    for (Asked a : asked) {
                        if (a.topic().isCompletedExceptionally()) {
                            a.answer().setErrorCode(KafkaErrors.forRead(failureOf(a.topic())).code());
                        } else if (a.partition() == null) {
                            a.answer().setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                        } else {
                            partitions.add(a.partition());
                        }
                    }
                    if (partitions.isEmpty()) {
                        return CompletableFuture.completedFuture((ApiMessage) response);
                    }
                    // Each shard read once for all its partitions asked, and failing alone.
                    Map<PartitionId, CompletableFuture<List<ProducerState>>> states = metadata.producers(partitions);
                    return CompletableFuture.allOf(states.values().stream().map(f -> f.handle((x, e) -> null))
                            .toArray(CompletableFuture[]::new)).thenCompose(x -> {
                        boolean transactional = states.values().stream().filter(f -> !f.isCompletedExceptionally())
                                .flatMap(f -> f.join().stream()).anyMatch(st -> st.epoch() != 0);
                        CompletableFuture<Map<Long, List<TransactionRecord>>> open = transactional
                                ? metadata.transactions().snapshot().thenApply(DescribeProducersApi::openByProducer)
                                : CompletableFuture.completedFuture(Map.of());
                        return open.handle((records, failure) -> {
                            for (Asked a : asked) {
                                PartitionId p = a.answer().errorCode() == Errors.NONE.code() ? a.partition() : null;
                                if (p == null) {
                                    continue;
                                }
                                CompletableFuture<List<ProducerState>> read = states.get(p);
                                if (read == null) {
                                    a.answer().setErrorCode(Errors.UNKNOWN_SERVER_ERROR.code()); // not read: a bug
                                } else if (read.isCompletedExceptionally()) {
                                    a.answer().setErrorCode(KafkaErrors.forRead(failureOf(read)).code());
                                } else {
                                    fill(a.answer(), p, read.join(), records, failure);
                                }
                            }
                            return (ApiMessage) response;
                        });
                    });
                });
    }

    /** One partition's answer from its producers' states and the open transactions (or why those were not read). */
    private static void fill(DescribeProducersResponseData.PartitionResponse answer, PartitionId partition,
                             List<ProducerState> states, Map<Long, List<TransactionRecord>> records,
                             Throwable recordsFailure) {
        if (recordsFailure != null && states.stream().anyMatch(s -> s.epoch() != 0)) {
            answer.setErrorCode(KafkaErrors.forRead(recordsFailure).code());
            return;
        }
        for (ProducerState s : states) {
            answer.activeProducers().add(describe(s, partition.topicId(), partition.partition(),
                    records == null ? Map.of() : records));
        }
    }

    /** One producer's state on a partition, in Kafka's terms (see the class's comment). */
    static DescribeProducersResponseData.ProducerState describe(ProducerState s, long topicId, int partition,
                                                               Map<Long, List<TransactionRecord>> openByProducer) {
        long start = -1;
        for (TransactionRecord r : openByProducer.getOrDefault(s.producerId(), List.of())) {
            if (r.txnEpoch() != s.epoch()) {
                continue; // another transaction of the id's: the state's is over
            }
            for (TxnPartition p : r.partitions()) {
                if (p.topicId() == topicId && p.partition() == partition) {
                    start = start < 0 ? p.startOffset() : Math.min(start, p.startOffset());
                }
            }
        }
        return new DescribeProducersResponseData.ProducerState().setProducerId(s.producerId())
                .setProducerEpoch(s.epoch() == 0 ? InitProducerIdApi.EPOCH : (int) (s.epoch() >>> 32))
                .setLastSequence((int) Math.min(Integer.MAX_VALUE, s.lastSequence()))
                .setLastTimestamp(s.lastWriteMs()).setCoordinatorEpoch(-1).setCurrentTxnStartOffset(start);
    }

    /** The transactional ids' records with a transaction open (or aborting), by the producer id its records carry. */
    static Map<Long, List<TransactionRecord>> openByProducer(io.strata.metadata.txn.TransactionStore.Snapshot snapshot) {
        Map<Long, List<TransactionRecord>> open = new HashMap<>();
        snapshot.records().forEach(n -> {
            TransactionRecord r;
            try {
                r = TransactionCodec.decode(n.stored().record());
            } catch (RuntimeException e) {
                return; // a record that will not decode holds nothing a producer can be shown with
            }
            if (r.state() != TransactionRecord.State.READY) {
                open.computeIfAbsent(r.txnProducerId(), k -> new ArrayList<>()).add(r);
            }
        });
        return open;
    }

    private static Throwable failureOf(CompletableFuture<?> failed) {
        try {
            failed.join();
            return new IllegalStateException("not failed");
        } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
            return e;
        }
    }
}
