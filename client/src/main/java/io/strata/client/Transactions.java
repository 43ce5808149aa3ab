package io.strata.client;

import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.AbortTransactionRequest;
import io.strata.api.v1.AddPartitionsRequest;
import io.strata.api.v1.DescribeTransactionRequest;
import io.strata.api.v1.EndTransactionRequest;
import io.strata.api.v1.InitTransactionsRequest;
import io.strata.api.v1.InitTransactionsResponse;
import io.strata.api.v1.ListTransactionsRequest;
import io.strata.api.v1.TransactionDescription;
import io.strata.api.v1.TransactionPartition;
import io.strata.api.v1.TransactionServiceGrpc;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Transactions as operators see them ({@code strata transactions list|describe|abort}), and the calls a
 * transactional {@link Producer} makes (docs/transactions.md). Every node answers; each call is safe to repeat
 * (a lost answer is asked again on another node). Thread-safe.
 */
public final class Transactions {
    private final NodeRouter router;
    private final Duration deadline;

    Transactions(NodeRouter router, Duration deadline) {
        this.router = router;
        this.deadline = deadline;
    }

    /** A partition a transaction added, and the partition's end when it did (its records come after). */
    public record Partition(String topic, int partition, long startOffset) {
    }

    /**
     * A transactional id's producer and transaction: {@code state} READY (none open), ONGOING or PREPARE_ABORT;
     * {@code lastOutcome} NONE, COMMITTED or ABORTED.
     */
    public record Description(String transactionalId, long producerId, int producerEpoch, String state,
                              long txnProducerId, long txnEpoch, long timeoutMs, long startedAtMs,
                              List<Partition> partitions, String lastOutcome, long updatedAtMs) {
        static Description of(TransactionDescription d) {
            return new Description(d.getTransactionalId(), d.getProducerId(), d.getProducerEpoch(),
                    d.getState().name().substring("TRANSACTION_STATE_".length()), d.getTxnProducerId(), d.getTxnEpoch(),
                    d.getTransactionTimeoutMs(), d.getStartedAtMs(), d.getPartitionsList().stream()
                    .map(p -> new Partition(p.getTopic(), p.getPartition(), p.getStartOffset())).toList(),
                    d.getLastOutcome().name().substring("TRANSACTION_OUTCOME_".length()), d.getUpdatedAtMs());
        }
    }

    public List<Description> list() {
        return call(stub -> stub.listTransactions(ListTransactionsRequest.getDefaultInstance())).getTransactionsList()
                .stream().map(Description::of).toList();
    }

    /** NOT_FOUND for an id no producer was initialised with. */
    public Description describe(String transactionalId) {
        return Description.of(call(stub -> stub.describeTransaction(DescribeTransactionRequest.newBuilder()
                .setTransactionalId(transactionalId).build())));
    }

    /** Aborts the id's open transaction and fences its producer (needs admin on the cluster). */
    public Description abort(String transactionalId) {
        return Description.of(call(stub -> stub.abortTransaction(AbortTransactionRequest.newBuilder()
                .setTransactionalId(transactionalId).build())));
    }

    /**
     * A half message as the cluster decides it (docs/transactions.md, "Half messages with check-back"): {@code status}
     * PENDING, COMMITTED, ROLLED_BACK, DELIVERED or DROPPED; who decided ("producer", "check-back", "operator",
     * "checks exhausted"); for a pending one, the checks made and when the next is due.
     */
    public record HalfMessage(String id, String topic, int partition, String status, String producerGroup, int checks,
                              long nextCheckMs, String decidedBy, long sentMs) {
        static HalfMessage of(io.strata.api.v1.HalfDescription d) {
            return new HalfMessage(d.getId(), d.getTopic(), d.getPartition(),
                    d.getStatus().name().substring("HALF_STATUS_".length()), d.getProducerGroup(), d.getChecks(),
                    d.getNextCheckMs(), d.getDecidedBy(), d.getSentMs());
        }
    }

    /**
     * Commits ({@code commit}) or rolls back a half message by id, once: asked again the same way, answers as it
     * stands; the other way round, FAILED_PRECONDITION. Needs produce on its topic.
     */
    public HalfMessage endHalf(String id, boolean commit) {
        return HalfMessage.of(call(stub -> stub.endHalf(io.strata.api.v1.EndHalfRequest.newBuilder().setId(id)
                .setCommit(commit).build())));
    }

    /** The half messages not yet delivered or dropped, and those settled lately; of {@code topic} unless empty. */
    public List<HalfMessage> listHalf(String topic) {
        return call(stub -> stub.listHalf(io.strata.api.v1.ListHalfRequest.newBuilder().setTopic(topic).build()))
                .getMessagesList().stream().map(HalfMessage::of).toList();
    }

        InitTransactionsResponse init(String transactionalId, Duration timeout) {
        return call(stub -> stub.initTransactions(InitTransactionsRequest.newBuilder()
                .setTransactionalId(transactionalId).setTransactionTimeoutMs(timeout.toMillis()).build()));
    }

    TransactionDescription addPartitions(String transactionalId, long producerId, int producerEpoch,
                                         Collection<RecordAccumulator.TopicPartition> partitions) {
        AddPartitionsRequest.Builder request = AddPartitionsRequest.newBuilder().setTransactionalId(transactionalId)
                .setProducerId(producerId).setProducerEpoch(producerEpoch);
        partitions.forEach(p -> request.addPartitions(TransactionPartition.newBuilder().setTopic(p.topic())
                .setPartition(p.partition())));
        return call(stub -> stub.addPartitions(request.build()));
    }

    TransactionDescription addOffsets(String transactionalId, long producerId, int producerEpoch,
                                      Consumer.TransactionPositions positions) {
        io.strata.api.v1.AddOffsetsRequest.Builder request = io.strata.api.v1.AddOffsetsRequest.newBuilder()
                .setTransactionalId(transactionalId).setProducerId(producerId).setProducerEpoch(producerEpoch)
                .setGroup(positions.group()).setMemberId(positions.memberId());
        positions.offsetAndEpoch().forEach((partition, at) -> request.addOffsets(
                io.strata.api.v1.TransactionOffset.newBuilder().setTopic(positions.topic()).setPartition(partition)
                        .setOffset(at[0]).setOwnerEpoch(at[1])));
        return call(stub -> stub.addOffsets(request.build()));
    }

    TransactionDescription end(String transactionalId, long producerId, int producerEpoch, long txnEpoch,
                               boolean commit) {
        return call(stub -> stub.endTransaction(EndTransactionRequest.newBuilder().setTransactionalId(transactionalId)
                .setProducerId(producerId).setProducerEpoch(producerEpoch).setTxnEpoch(txnEpoch).setCommit(commit)
                .build()));
    }

    private <T> T call(Function<TransactionServiceGrpc.TransactionServiceBlockingStub, T> rpc) {
        Function<Channel, T> call = channel -> rpc.apply(TransactionServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS));
        try {
            return router.onAnyNode(call);
        } catch (StatusRuntimeException e) {
            throw StrataException.from(e);
        }
    }
}
