package io.strata.kafka.txn;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.produce.KafkaBatches;
import io.strata.transactions.TransactionException;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.coordinator.TransactionCoordinator;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * Kafka's transactional producer through the Kafka door (docs/transactions.md, "Kafka door"): InitProducerId with a
 * transactional id, AddPartitionsToTxn and EndTxn, answered by Strata's {@link TransactionCoordinator} on whichever
 * node is asked (FindCoordinator names one, but every node could answer). Kafka's producer keeps one epoch across
 * its transactions and numbers each partition's records on across them; Strata gives each transaction an epoch of
 * its own, which the door reads from the transactional id's record when the producer's batches come
 * ({@link #txnEpochOf}). Transactions here are Kafka's first version (partitions added before records are sent):
 * the door does not offer version 2, so clients add partitions themselves.
 */
public final class TransactionApis {
    /**
     * Whether a Kafka group member may commit offsets at a generation, on this node (Errors.NONE), as the group's
     * coordinator checks an OffsetCommit: NOT_COORDINATOR, ILLEGAL_GENERATION and the like otherwise.
     */
    @FunctionalInterface
    public interface GroupCheck {
        Errors mayCommit(String group, String memberId, int generation);
    }

    private final TransactionCoordinator coordinator;
    private final io.strata.kafka.auth.KafkaGuard guard;
    private final io.strata.metadata.group.GroupStore groups;
    private final GroupCheck groupCheck;

    public TransactionApis(TransactionCoordinator coordinator, io.strata.kafka.auth.KafkaGuard guard,
                           io.strata.metadata.group.GroupStore groups, GroupCheck groupCheck) {
        this.coordinator = coordinator;
        this.guard = guard;
        this.groups = groups;
        this.groupCheck = groupCheck;
    }

    public List<KafkaApi> all() {
        // AddPartitionsToTxn 4 and up are brokers' batched verification; EndTxn 5, AddOffsetsToTxn 4 and
        // TxnOffsetCommit 5 are transactions' version 2.
        return List.of(KafkaApi.of(ApiKeys.ADD_PARTITIONS_TO_TXN, 0, 3, this::addPartitions),
                KafkaApi.of(ApiKeys.END_TXN, 0, 4, this::endTxn),
                KafkaApi.of(ApiKeys.ADD_OFFSETS_TO_TXN, 0, 3, this::addOffsets),
                KafkaApi.of(ApiKeys.TXN_OFFSET_COMMIT, 0, 4, this::txnOffsetCommit));
    }

    /**
     * AddOffsetsToTxn: Kafka's producer announces the group whose offsets it will commit in the transaction, which
     * begins it (the producer counts it begun from here). The offsets themselves come with TxnOffsetCommit.
     */
    private CompletableFuture<ApiMessage> addOffsets(KafkaRequest request) {
        org.apache.kafka.common.message.AddOffsetsToTxnRequestData data = request.data();
        Errors notOwn = notOwnProducer(request, data.producerId());
        CompletableFuture<Errors> outcome = notOwn != Errors.NONE ? CompletableFuture.completedFuture(notOwn)
                : !io.strata.metadata.group.GroupNames.validGroup(data.groupId())
                ? CompletableFuture.completedFuture(Errors.INVALID_GROUP_ID)
                : coordinator.begin(data.transactionalId(), data.producerId(), data.producerEpoch())
                .thenApply(r -> Errors.NONE);
        return outcome.exceptionally(failure -> errorOf(failure, request.version(), 2)).thenApply(error ->
                new org.apache.kafka.common.message.AddOffsetsToTxnResponseData().setErrorCode(error.code()));
    }

    /**
     * TxnOffsetCommit, at the group's coordinator: the member's offsets join the transaction, each under the
     * ownership the member holds now; the commit writes them only while it still does (docs/transactions.md).
     */
    private CompletableFuture<ApiMessage> txnOffsetCommit(KafkaRequest request) {
        org.apache.kafka.common.message.TxnOffsetCommitRequestData data = request.data();
        String memberId = data.memberId() == null ? "" : data.memberId();
        Errors allowed = memberId.isEmpty() ? Errors.UNKNOWN_MEMBER_ID // offsets in a transaction are a member's
                : groupCheck.mayCommit(data.groupId(), memberId, data.generationId());
        Errors notOwn = notOwnProducer(request, data.producerId());
        CompletableFuture<Errors> outcome;
        if (notOwn != Errors.NONE) {
            outcome = CompletableFuture.completedFuture(notOwn);
        } else if (allowed != Errors.NONE && allowed != Errors.UNKNOWN_MEMBER_ID) {
            outcome = CompletableFuture.completedFuture(allowed);
        } else if (memberId.isEmpty()) {
            outcome = CompletableFuture.completedFuture(Errors.UNKNOWN_MEMBER_ID);
        } else {
            // A member the classic protocol does not know here may be a consumer-protocol member: its partition
            // leases say what it owns.
            outcome = groups.read(data.groupId()).thenCompose(snapshot -> {
                List<TransactionCoordinator.GroupPosition> positions = new ArrayList<>();
                for (var t : data.topics()) {
                    for (var p : t.partitions()) {
                        var owner = snapshot.owners().get(new io.strata.metadata.group.TopicPartition(t.name(),
                                p.partitionIndex()));
                        if (owner == null || !owner.memberId().equals(memberId)) {
                            return CompletableFuture.completedFuture(Errors.ILLEGAL_GENERATION);
                        }
                        positions.add(new TransactionCoordinator.GroupPosition(t.name(), p.partitionIndex(),
                                p.committedOffset(), p.committedMetadata() == null ? "" : p.committedMetadata(),
                                owner.epoch()));
                    }
                }
                return coordinator.addOffsets(data.transactionalId(), data.producerId(), data.producerEpoch(),
                        data.groupId(), memberId, positions).thenApply(r -> Errors.NONE);
            }).exceptionally(failure -> errorOf(failure, request.version(), 3));
        }
        return outcome.thenApply(error -> {
            var response = new org.apache.kafka.common.message.TxnOffsetCommitResponseData();
            for (var t : data.topics()) {
                var topic = new org.apache.kafka.common.message.TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic()
                        .setName(t.name());
                for (var p : t.partitions()) {
                    topic.partitions().add(new org.apache.kafka.common.message.TxnOffsetCommitResponseData
                            .TxnOffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex())
                            .setErrorCode(error.code()));
                }
                response.topics().add(topic);
            }
            return response;
        });
    }

    /**
     * TRANSACTIONAL_ID_AUTHORIZATION_FAILED when the producer id was issued to another principal than the caller's
     * (only the producer that initialised a transactional id adds to or ends its transaction, whoever else may use
     * the id and has read its producer id and epoch); NONE otherwise.
     */
    private Errors notOwnProducer(KafkaRequest request, long producerId) {
        return guard.mayUseProducerId(request.session().caller(guard.required()), producerId) ? Errors.NONE
                : Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    }


    /**
     * InitProducerId of a transactional producer: the id's next epoch, fencing the producers before it. A producer
     * that names its current id and epoch (bumping after an error, KIP-360) gets the next one only while they are
     * still the id's; otherwise it was fenced.
     */
    public CompletableFuture<ApiMessage> initProducerId(KafkaRequest request, InitProducerIdRequestData data) {
        String id = data.transactionalId();
        String principal = request.session().caller(guard.required()).principal();
        TransactionCoordinator.Producer current = data.producerId() >= 0 && data.producerEpoch() >= 0
                ? new TransactionCoordinator.Producer(data.producerId(), data.producerEpoch()) : null;
        return coordinator.initProducer(id, data.transactionTimeoutMs(), principal, current)
                .thenApply(p -> new InitProducerIdResponseData().setErrorCode(Errors.NONE.code())
                        .setProducerId(p.producerId()).setProducerEpoch((short) p.producerEpoch()))
                .exceptionally(failure -> new InitProducerIdResponseData().setErrorCode(errorOf(failure,
                        request.version(), 4).code()).setProducerId(-1).setProducerEpoch((short) -1))
                .thenApply(r -> (ApiMessage) r);
    }

    private CompletableFuture<ApiMessage> addPartitions(KafkaRequest request) {
        AddPartitionsToTxnRequestData data = request.data();
        List<TransactionCoordinator.PartitionName> names = new ArrayList<>();
        data.v3AndBelowTopics().forEach(t -> t.partitions().forEach(p ->
                names.add(new TransactionCoordinator.PartitionName(t.name(), p))));
        Errors notOwn = notOwnProducer(request, data.v3AndBelowProducerId());
        CompletableFuture<Errors> outcome = notOwn != Errors.NONE ? CompletableFuture.completedFuture(notOwn)
                : names.isEmpty() ? CompletableFuture.completedFuture(Errors.NONE)
                : coordinator.addPartitions(data.v3AndBelowTransactionalId(), data.v3AndBelowProducerId(),
                data.v3AndBelowProducerEpoch(), names).thenApply(r -> Errors.NONE);
        return outcome.exceptionally(failure -> errorOf(failure, request.version(), 2)).thenApply(error -> {
            AddPartitionsToTxnResponseData response = new AddPartitionsToTxnResponseData();
            var results = new AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResultCollection();
            for (AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic t : data.v3AndBelowTopics()) {
                var topic = new AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult().setName(t.name());
                for (int p : t.partitions()) {
                    topic.resultsByPartition().add(new AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult()
                            .setPartitionIndex(p).setPartitionErrorCode(error.code()));
                }
                results.add(topic);
            }
            return response.setResultsByTopicV3AndBelow(results);
        });
    }

    private CompletableFuture<ApiMessage> endTxn(KafkaRequest request) {
        EndTxnRequestData data = request.data();
        Errors notOwn = notOwnProducer(request, data.producerId());
        if (notOwn != Errors.NONE) {
            return CompletableFuture.completedFuture(new EndTxnResponseData().setErrorCode(notOwn.code()));
        }
        CompletableFuture<TransactionRecord> ended = data.committed()
                ? coordinator.commit(data.transactionalId(), data.producerId(), data.producerEpoch())
                : coordinator.abort(data.transactionalId(), data.producerId(), data.producerEpoch());
        return ended.thenApply(r -> Errors.NONE).exceptionally(failure -> {
            Errors error = errorOf(failure, request.version(), 2);
            // A member that lost its partitions aborted the commit: abortable for Kafka's producer (which takes a
            // new epoch and aborts), where ILLEGAL_GENERATION on EndTxn would be fatal.
            return error == Errors.ILLEGAL_GENERATION ? Errors.INVALID_PRODUCER_ID_MAPPING : error;
        }).thenApply(error -> new EndTxnResponseData().setErrorCode(error.code()));
    }

    /**
     * The epoch a transactional producer's batches carry in Strata: its open transaction's, when {@code producerId}
     * and {@code epoch} are the id's producer.
     *
     * @param record the id's record; null when it could not be read (the metadata store out of reach)
     * @throws KafkaBatches.Refused with the error Kafka's producer expects otherwise
     */
    public static long txnEpochOf(Optional<TransactionRecord> record, String transactionalId, long producerId,
                                  short epoch) {
        if (record == null) {
            throw new KafkaBatches.Refused(Errors.NOT_LEADER_OR_FOLLOWER, "the transaction of " + transactionalId
                    + " could not be read: try again");
        }
        if (record.isEmpty() || record.get().producerId() != producerId) {
            throw new KafkaBatches.Refused(Errors.INVALID_PRODUCER_ID_MAPPING, "producer " + producerId
                    + " is not transactional id " + transactionalId + "'s");
        }
        TransactionRecord r = record.get();
        if (r.producerEpoch() != epoch) {
            throw new KafkaBatches.Refused(Errors.INVALID_PRODUCER_EPOCH, "producer fenced: epoch " + epoch
                    + " of transactional id " + transactionalId + " is not its producer's (" + r.producerEpoch() + ")");
        }
        if (r.state() != TransactionRecord.State.ONGOING) {
            throw new KafkaBatches.Refused(Errors.INVALID_TXN_STATE, "transactional id " + transactionalId
                    + " has no transaction open: add the partition first");
        }
        return r.txnEpoch();
    }

    /** PRODUCER_FENCED where the API's version knows it, else INVALID_PRODUCER_EPOCH (as Kafka's brokers answer). */
    private static Errors fenced(short version, int fencedSince) {
        return version >= fencedSince ? Errors.PRODUCER_FENCED : Errors.INVALID_PRODUCER_EPOCH;
    }

    /** Kafka's answer to a refusal of the coordinator (or a failure to reach the metadata store). */
    static Errors errorOf(Throwable failure, short version, int fencedSince) {
        Throwable t = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
                : failure;
        if (t instanceof TransactionException refused) {
            return switch (refused.error()) {
                case PRODUCER_FENCED -> fenced(version, fencedSince);
                case UNKNOWN_TRANSACTIONAL_ID, INVALID_PRODUCER -> Errors.INVALID_PRODUCER_ID_MAPPING;
                case INVALID_STATE -> Errors.INVALID_TXN_STATE;
                case INVALID_TIMEOUT -> Errors.INVALID_TRANSACTION_TIMEOUT;
                case TOO_MANY_PARTITIONS, TOO_MANY_OFFSETS, INVALID_ID -> Errors.INVALID_REQUEST;
                // A member that lost the partitions: Kafka's producer aborts (CommitFailedException).
                case NOT_GROUP_OWNER -> Errors.ILLEGAL_GENERATION;
            };
        }
        if (t instanceof TransactionCoordinator.ContendedException) {
            return Errors.CONCURRENT_TRANSACTIONS; // retried by Kafka's producer
        }
        if (t instanceof IllegalArgumentException bad && bad.getMessage() != null) {
            return bad.getMessage().startsWith("no topic") || bad.getMessage().contains(" has partitions ")
                    ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.INVALID_REQUEST;
        }
        return Errors.COORDINATOR_NOT_AVAILABLE; // the metadata store out of reach: retried
    }
}
