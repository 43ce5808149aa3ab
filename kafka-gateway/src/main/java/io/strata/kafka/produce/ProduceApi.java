package io.strata.kafka.produce;

import com.google.protobuf.UnsafeByteOperations;
import io.strata.api.v1.Acks;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaBackends;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.cluster.TopicIds;
import io.strata.metadata.Topic;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Produce: each partition's record batches become entries of one Strata produce request, handed to the same
 * handler the gRPC door uses, so they are validated, bounded, made durable and answered exactly as a gRPC
 * producer's records are. {@code acks=1} and {@code acks=all} are both answered only once the records are
 * durable in the object store and committed (there are no followers to wait for or not); {@code acks=0} is
 * answered with nothing, once the records are buffered. An idempotent producer's batches carry its id and
 * sequences into Strata's producer state, which stores a retried batch once and answers it with the first
 * one's offsets. A partition that cannot be taken (unknown, malformed, too large) gets its own error and is
 * left out of the request; the others go on.
 */
public final class ProduceApi implements KafkaApi {
    private final KafkaBackends backends;
    private final TopicIds topicIds;
    private final long maxInflatedBytes;
    private final KafkaBatches.Limits limits;
    private final java.util.concurrent.Executor converter;
    private final io.strata.kafka.auth.KafkaGuard guard;

    /**
     * {@code converter} inflates and converts the records (CPU, up to a request's size): not the listener's
     * event loop, which serves every connection on it, nor a metadata store's callback thread.
     */
    public ProduceApi(KafkaBackends backends, TopicIds topicIds, long maxInflatedBytes, KafkaBatches.Limits limits,
                      java.util.concurrent.Executor converter) {
        this(backends, topicIds, maxInflatedBytes, limits, converter, io.strata.kafka.auth.KafkaGuard.OPEN);
    }

    /** {@code guard} says whose producer ids a connection may produce with. */
    public ProduceApi(KafkaBackends backends, TopicIds topicIds, long maxInflatedBytes, KafkaBatches.Limits limits,
                      java.util.concurrent.Executor converter, io.strata.kafka.auth.KafkaGuard guard) {
        this.guard = guard;
        this.backends = backends;
        this.topicIds = topicIds;
        this.maxInflatedBytes = maxInflatedBytes;
        this.limits = limits;
        this.converter = converter;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.PRODUCE;
    }

    @Override
    public short minVersion() {
        return 3;
    }


    /** One partition of the request: where its answer goes and, when it is sent, its entries' indices. */
    private static final class Slot {
        final ProduceResponseData.PartitionProduceResponse answer;
        final List<Integer> entries = new ArrayList<>();

        Slot(int partition) {
            answer = new ProduceResponseData.PartitionProduceResponse().setIndex(partition)
                    .setErrorCode(Errors.NONE.code()).setBaseOffset(-1).setLogAppendTimeMs(-1).setLogStartOffset(-1);
        }

        void fail(Errors error, String message) {
            answer.setErrorCode(error.code()).setErrorMessage(message).setBaseOffset(-1);
        }
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        ProduceRequestData data = ((org.apache.kafka.common.requests.ProduceRequest) request.body()).data();
        boolean answered = data.acks() != 0;
        // Appended in the connection's order: a producer's pipelined requests carry consecutive sequences.
        io.strata.kafka.KafkaSession.Turn turn = request.session().admitAfter();
        CompletableFuture<ApiMessage> out;
        try {
            out = produce(data, answered, turn, request.session().caller(guard.required()));
        } catch (RuntimeException e) {
            out = CompletableFuture.failedFuture(e);
        }
        out.whenComplete((r, e) -> turn.admitted().complete(null)); // every path ends this request's turn
        return out;
    }

    private CompletableFuture<ApiMessage> produce(ProduceRequestData data, boolean answered,
                                                  io.strata.kafka.KafkaSession.Turn turn,
                                                  io.strata.security.Identity who) {
        List<CompletableFuture<Optional<Topic>>> lookups = new ArrayList<>();
        for (ProduceRequestData.TopicProduceData t : data.topicData()) {
            lookups.add(topicIds.resolve(t.name(), t.topicId(), t.partitionData().stream()
                    .mapToInt(ProduceRequestData.PartitionProduceData::index).max().orElse(-1), backends.topics()));
        }
        // A transactional producer's batches carry its Kafka epoch, which stays across its transactions; Strata's
        // carry the open transaction's own epoch (docs/transactions.md, "Kafka door"): read it from the record.
        CompletableFuture<Optional<io.strata.transactions.TransactionRecord>> txn = data.transactionalId() == null
                || backends.transactions() == null ? CompletableFuture.completedFuture(Optional.empty())
                : backends.transactions().describe(data.transactionalId()).handle((r, e) -> e == null ? r : null);
        lookups.add(txn.thenApply(x -> Optional.empty()));
        return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new)).thenComposeAsync(v -> {
            ProduceResponseData response = new ProduceResponseData();
            Optional<io.strata.transactions.TransactionRecord> txnRecord = txn.join();
            ProduceRequest.Builder strata = ProduceRequest.newBuilder().setAcks(data.acks() == 0 ? Acks.ACKS_NONE
                    : Acks.ACKS_DURABLE).setTimeoutMs(Math.max(1, data.timeoutMs()));
            Map<Integer, Slot> byEntry = new LinkedHashMap<>();
            List<io.strata.format.BatchInfo> headers = new ArrayList<>();
            List<Slot> slots = new ArrayList<>();
            long budget = Math.min(maxInflatedBytes, limits.maxRequestBytes());
            long producerId = -1;
            long txnEpoch = -1;
            int i = 0;
            for (ProduceRequestData.TopicProduceData t : data.topicData()) {
                Optional<Topic> topic = lookups.get(i++).join();
                ProduceResponseData.TopicProduceResponse topicAnswer = new ProduceResponseData.TopicProduceResponse()
                        .setName(t.name()).setTopicId(t.topicId());
                response.responses().add(topicAnswer);
                for (ProduceRequestData.PartitionProduceData p : t.partitionData()) {
                    Slot slot = new Slot(p.index());
                    slots.add(slot);
                    topicAnswer.partitionResponses().add(slot.answer);
                    if (backends.produce() == null) {
                        slot.fail(Errors.NOT_LEADER_OR_FOLLOWER, "this node takes no produce requests");
                        continue;
                    }
                    if (topic.isEmpty() || p.index() < 0 || p.index() >= topic.get().partitions()) {
                        slot.fail(t.name() == null || t.name().isEmpty() ? Errors.UNKNOWN_TOPIC_ID
                                : Errors.UNKNOWN_TOPIC_OR_PARTITION, null);
                        continue;
                    }
                    List<TopicPartitionRecords> entries = new ArrayList<>();
                    List<io.strata.format.BatchInfo> infos = new ArrayList<>();
                    try {
                        for (RecordBatch batch : ((MemoryRecords) p.records()).batches()) {
                            if (batch.hasProducerId() && !guard.mayUseProducerId(who, batch.producerId())) {
                                // As Kafka says a producer lacks IdempotentWrite: the id is not this principal's.
                                throw new KafkaBatches.Refused(Errors.CLUSTER_AUTHORIZATION_FAILED, "producer id "
                                        + batch.producerId() + " was issued to another principal");
                            }
                            if (batch.isTransactional() != (data.transactionalId() != null)) {
                                throw new KafkaBatches.Refused(Errors.INVALID_RECORD, batch.isTransactional()
                                        ? "a transactional batch in a request without transactional id"
                                        : "a request of transactional id " + data.transactionalId() + " carries a "
                                        + "batch that is not transactional");
                            }
                            if (batch.isTransactional()) {
                                long epoch = io.strata.kafka.txn.TransactionApis.txnEpochOf(txnRecord, data.transactionalId(),
                                        batch.producerId(), batch.producerEpoch());
                                if (txnEpoch >= 0 && txnEpoch != epoch) {
                                    throw new KafkaBatches.Refused(Errors.INVALID_RECORD,
                                            "one request carries batches of two transactions");
                                }
                                txnEpoch = epoch;
                            } else if (batch.hasProducerId() && batch.producerEpoch() != InitProducerIdApi.EPOCH) {
                                throw new KafkaBatches.Refused(Errors.INVALID_PRODUCER_EPOCH, "producer epoch "
                                        + batch.producerEpoch() + " was never issued here: ask InitProducerId");
                            }
                            KafkaBatches.Converted c = KafkaBatches.convert(batch, budget, limits);
                            budget -= c.inflatedBytes();
                            if (c.producerId() >= 0) {
                                if (producerId >= 0 && producerId != c.producerId()) {
                                    throw new KafkaBatches.Refused(Errors.INVALID_RECORD,
                                            "one request carries batches of two producers");
                                }
                                producerId = c.producerId();
                            }
                            entries.add(TopicPartitionRecords.newBuilder().setTopic(topic.get().name())
                                    .setPartition(p.index()).setBatch(UnsafeByteOperations.unsafeWrap(c.batch()))
                                    .setBaseSequence(Math.max(0, c.baseSequence())).build());
                            infos.add(c.info());
                        }
                        if (entries.isEmpty()) {
                            throw new KafkaBatches.Refused(Errors.CORRUPT_MESSAGE, "no record batch");
                        }
                    } catch (KafkaBatches.Refused e) {
                        slot.fail(e.error(), e.getMessage());
                        continue;
                    } catch (RuntimeException e) {
                        slot.fail(Errors.CORRUPT_MESSAGE, e.getMessage());
                        continue;
                    }
                    for (int e = 0; e < entries.size(); e++) {
                        byEntry.put(strata.getEntriesCount(), slot);
                        slot.entries.add(strata.getEntriesCount());
                        strata.addEntries(entries.get(e));
                        headers.add(infos.get(e));
                    }
                }
            }
            if (strata.getEntriesCount() == 0) {
                return CompletableFuture.<ProduceResponseData>completedFuture(answered ? response : null)
                        .thenCompose(r -> withLogStarts(r, slots));
            }
            if (txnEpoch > 0) {
                strata.setProducerEpoch(txnEpoch).setTransactionalId(data.transactionalId());
            }
            if (producerId > 0) {
                strata.setProducerId(producerId);
            } else if (producerId == 0) {
                // Kafka ids start at 0, Strata's at 1: 0 was never issued by this door.
                slots.forEach(s -> { if (!s.entries.isEmpty()) s.fail(Errors.UNKNOWN_PRODUCER_ID, null); });
                return CompletableFuture.<ProduceResponseData>completedFuture(answered ? response : null)
                        .thenCompose(r -> withLogStarts(r, slots));
            }
            ProduceRequest built = strata.build();
            io.strata.format.BatchInfo[] builtHeaders = headers.toArray(io.strata.format.BatchInfo[]::new);
            return turn.previous().thenCompose(ready -> backends.produce().produce(built, builtHeaders,
                            turn.admitted()))
                    .handle((answer, failure) -> {
                if (failure != null) {
                    Errors error = KafkaErrors.forProduce(failure);
                    String message = KafkaErrors.describe(failure);
                    byEntry.values().forEach(s -> s.fail(error, message));
                } else {
                    fill(answer, byEntry);
                }
                return answered ? response : null;
            }).thenCompose(r -> withLogStarts(r, slots));
        }, converter).thenApply(r -> (ApiMessage) r);
    }

    /**
     * A partition refused with UNKNOWN_PRODUCER_ID carries its log start offset: Java's producer retries such an
     * answer without one forever, and with one tells a producer whose state expired (it resets) from a lost
     * write.
     */
    private CompletableFuture<ProduceResponseData> withLogStarts(ProduceResponseData response, List<Slot> slots) {
        if (response == null) {
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (ProduceResponseData.TopicProduceResponse t : response.responses()) {
            for (ProduceResponseData.PartitionProduceResponse p : t.partitionResponses()) {
                if (p.errorCode() != Errors.UNKNOWN_PRODUCER_ID.code() || t.name() == null) {
                    continue;
                }
                all.add(backends.topics().get(t.name()).thenCompose(topic -> topic.isEmpty()
                        ? CompletableFuture.completedFuture(null)
                        : backends.metadata().offsets(topic.get().partition(p.index()))
                                .thenAccept(o -> p.setLogStartOffset(o.logStartOffset())))
                        .exceptionally(e -> null));
            }
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    private static void fill(ProduceResponse answer, Map<Integer, Slot> byEntry) {
        Map<Integer, PartitionAppend> appends = new LinkedHashMap<>();
        for (PartitionAppend a : answer.getAppendsList()) {
            appends.put(a.getEntryIndex(), a);
        }
        for (Map.Entry<Integer, Slot> e : byEntry.entrySet()) {
            Slot slot = e.getValue();
            if (slot.answer.errorCode() != Errors.NONE.code()) {
                continue;
            }
            PartitionAppend a = appends.get(e.getKey());
            if (a == null) {
                slot.fail(Errors.UNKNOWN_SERVER_ERROR, "no answer for the partition's records");
            } else if (a.hasError()) {
                slot.fail(KafkaErrors.forProduce(a.getError().getCode(), a.getError().getMessage(), a.getError().getReason()),
                        a.getError().getMessage());
            } else if (slot.answer.baseOffset() < 0) {
                slot.answer.setBaseOffset(a.getBaseOffset());
            }
        }
    }

}
