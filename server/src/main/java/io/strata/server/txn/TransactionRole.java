package io.strata.server.txn;

import io.grpc.Status;
import io.strata.api.v1.AddPartitionsRequest;
import io.strata.api.v1.EndTransactionRequest;
import io.strata.api.v1.InitTransactionsRequest;
import io.strata.api.v1.InitTransactionsResponse;
import io.strata.api.v1.ListTransactionsResponse;
import io.strata.api.v1.TransactionDescription;
import io.strata.api.v1.TransactionOutcome;
import io.strata.api.v1.TransactionPartition;
import io.strata.api.v1.TransactionState;
import io.strata.ingest.txn.TransactionStatus;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.ProducerBatch;
import io.strata.metadata.Topic;
import io.strata.transactions.TransactionError;
import io.strata.transactions.TransactionException;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.TxnPartition;
import io.strata.transactions.coordinator.TransactionCoordinator;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Transactional producers' door on every node (docs/transactions.md): the TransactionService's calls answered by
 * the {@link TransactionCoordinator}, and the cluster's timeout pass, which every node runs (the coordinator's
 * compare-and-set orders nodes that find the same overdue transaction; the pass is jittered so they seldom do).
 */
public final class TransactionRole implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(TransactionRole.class);
    /** The default transaction timeout, as Kafka's producers'. */
    public static final long DEFAULT_TIMEOUT_MS = 60_000;

    private final TransactionCoordinator coordinator;
    private final MetadataStore metadata;
    private final ScheduledExecutorService timer;

    /**
     * @param timeoutPass how often this node looks for transactions open past their timeout (and aborts a node
     *                    left unfinished)
     */
    public TransactionRole(MetadataStore metadata, TransactionCoordinator coordinator, Duration timeoutPass) {
        this.metadata = metadata;
        this.coordinator = coordinator;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-txn-timeouts");
            t.setDaemon(true);
            return t;
        });
        long periodMs = timeoutPass.toMillis();
        timer.scheduleWithFixedDelay(this::endOverdue, ThreadLocalRandom.current().nextLong(periodMs) + periodMs,
                periodMs, TimeUnit.MILLISECONDS);
    }

    /** The coordinator (the Kafka door's transactional APIs answer through it too). */
    public TransactionCoordinator coordinator() {
        return coordinator;
    }

    private void endOverdue() {
        try {
            coordinator.endOverdue().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warnf("the transaction timeout pass failed (tried again next pass): %s", e.toString());
        }
    }

    public CompletableFuture<InitTransactionsResponse> init(InitTransactionsRequest request, String principal) {
        long timeoutMs = request.getTransactionTimeoutMs() == 0 ? DEFAULT_TIMEOUT_MS
                : request.getTransactionTimeoutMs();
        return refusals(coordinator.initProducer(request.getTransactionalId(), timeoutMs, principal)
                .thenApply(p -> InitTransactionsResponse.newBuilder().setProducerId(p.producerId())
                        .setProducerEpoch(p.producerEpoch()).setSequenceWindow(ProducerBatch.RETRY_WINDOW).build()));
    }

    public CompletableFuture<TransactionDescription> addPartitions(AddPartitionsRequest request) {
        if (request.getPartitionsCount() == 0) {
            return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT.withDescription("no partitions to add")
                    .asRuntimeException());
        }
        List<TransactionCoordinator.PartitionName> names = request.getPartitionsList().stream()
                .map(p -> new TransactionCoordinator.PartitionName(p.getTopic(), p.getPartition())).distinct().toList();
        return describe(refusals(coordinator.addPartitions(request.getTransactionalId(), request.getProducerId(),
                request.getProducerEpoch(), names)));
    }

    public CompletableFuture<TransactionDescription> addOffsets(io.strata.api.v1.AddOffsetsRequest request) {
        if (request.getOffsetsCount() == 0) {
            return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT.withDescription("no offsets to add")
                    .asRuntimeException());
        }
        List<TransactionCoordinator.GroupPosition> positions;
        try {
            positions = request.getOffsetsList().stream().map(o -> new TransactionCoordinator.GroupPosition(
                    o.getTopic(), o.getPartition(), o.getOffset(), o.getMetadata(), o.getOwnerEpoch())).toList();
            positions.forEach(p -> new io.strata.transactions.TxnOffset(request.getGroup(), p.topic(), 1, p.partition(),
                    p.offset(), p.metadata(), request.getMemberId(), p.ownerEpoch())); // checks bounds at once
        } catch (IllegalArgumentException bad) {
            return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT.withDescription(bad.getMessage())
                    .asRuntimeException());
        }
        return describe(refusals(coordinator.addOffsets(request.getTransactionalId(), request.getProducerId(),
                request.getProducerEpoch(), request.getGroup(), request.getMemberId(), positions)));
    }

    public CompletableFuture<TransactionDescription> end(EndTransactionRequest request) {
        CompletableFuture<TransactionRecord> ended = request.getCommit()
                ? coordinator.commit(request.getTransactionalId(), request.getProducerId(), request.getProducerEpoch(),
                request.getTxnEpoch())
                : coordinator.abort(request.getTransactionalId(), request.getProducerId(), request.getProducerEpoch(),
                request.getTxnEpoch());
        return describe(refusals(ended));
    }

    public CompletableFuture<TransactionDescription> describe(String transactionalId) {
        return refusals(coordinator.describe(transactionalId).thenApply(found -> found.orElseThrow(() ->
                new TransactionException(TransactionError.UNKNOWN_TRANSACTIONAL_ID, "no producer was initialised "
                        + "with transactional id " + io.strata.metadata.InputText.quoted(transactionalId)))))
                .thenCompose(r -> describe(CompletableFuture.completedFuture(r)));
    }

    public CompletableFuture<TransactionDescription> abort(String transactionalId) {
        return describe(refusals(coordinator.forceAbort(transactionalId)));
    }

    public CompletableFuture<ListTransactionsResponse> list() {
        return coordinator.list().thenCombine(topicNames(), (records, names) -> {
            ListTransactionsResponse.Builder out = ListTransactionsResponse.newBuilder();
            records.stream().sorted(java.util.Comparator.comparing(TransactionRecord::transactionalId))
                    .forEach(r -> out.addTransactions(toProto(r, names)));
            return out.build();
        });
    }

    private CompletableFuture<TransactionDescription> describe(CompletableFuture<TransactionRecord> record) {
        return record.thenCombine(topicNames(), TransactionRole::toProto);
    }

    private CompletableFuture<Map<Long, String>> topicNames() {
        return metadata.listTopics().thenApply(topics -> {
            Map<Long, String> names = new HashMap<>();
            for (Topic t : topics) {
                names.put(t.topicId(), t.name());
            }
            return names;
        });
    }

    static TransactionDescription toProto(TransactionRecord r, Map<Long, String> topicNames) {
        TransactionDescription.Builder d = TransactionDescription.newBuilder().setTransactionalId(r.transactionalId())
                .setProducerId(r.producerId()).setProducerEpoch(r.producerEpoch())
                .setState(switch (r.state()) {
                    case READY -> TransactionState.TRANSACTION_STATE_READY;
                    case ONGOING -> TransactionState.TRANSACTION_STATE_ONGOING;
                    case PREPARE_ABORT -> TransactionState.TRANSACTION_STATE_PREPARE_ABORT;
                })
                .setTxnProducerId(r.txnProducerId()).setTxnEpoch(r.txnEpoch()).setTransactionTimeoutMs(r.timeoutMs())
                .setStartedAtMs(r.startedAtMs()).setUpdatedAtMs(r.updatedAtMs())
                .setLastOutcome(switch (r.lastOutcome()) {
                    case NONE -> TransactionOutcome.TRANSACTION_OUTCOME_NONE;
                    case COMMITTED -> TransactionOutcome.TRANSACTION_OUTCOME_COMMITTED;
                    case ABORTED -> TransactionOutcome.TRANSACTION_OUTCOME_ABORTED;
                });
        for (io.strata.transactions.TxnOffset o : r.offsets()) {
            d.addOffsets(io.strata.api.v1.TransactionOffset.newBuilder().setGroup(o.group()).setTopic(o.topic())
                    .setPartition(o.partition()).setOffset(o.offset()).setMetadata(o.metadata())
                    .setOwnerEpoch(o.ownerEpoch()));
        }
        for (TxnPartition p : r.partitions()) {
            // A topic deleted since the transaction added it is shown by its id.
            d.addPartitions(TransactionPartition.newBuilder().setTopic(topicNames.getOrDefault(p.topicId(),
                    "(deleted topic " + p.topicId() + ")")).setPartition(p.partition()).setStartOffset(p.startOffset()));
        }
        return d.build();
    }

    /**
     * Adds the partitions a produce request writes to, to the transaction it names (a request that adds its own:
     * ProduceRequest.add_partitions), refused with the status AddPartitions would answer, but for contention on
     * the record: RESOURCE_EXHAUSTED, which the producer retries.
     */
    public CompletableFuture<TransactionRecord> addForBatches(String transactionalId, long producerId, long txnEpoch,
                                                              java.util.Set<io.strata.metadata.PartitionId> partitions) {
        return refusals(coordinator.addForBatches(transactionalId, producerId, txnEpoch, partitions))
                .exceptionallyCompose(failure -> {
                    // On the produce path ABORTED would say "unknown producer" (start afresh), and UNAVAILABLE would
                    // mark a healthy node down: contention on the record is a retry of the same batches.
                    Status status = Status.fromThrowable(failure);
                    return CompletableFuture.failedFuture(status.getCode() == Status.Code.ABORTED
                            ? Status.RESOURCE_EXHAUSTED.withDescription(status.getDescription()).asRuntimeException()
                            : failure);
                });
    }

    /**
     * Commits the transaction a produce request named and carried the commit of, its entries all stored
     * (ProduceRequest.commit_transaction), refused with the status EndTransaction would answer.
     */
    public CompletableFuture<Void> commitForBatches(String transactionalId, long producerId, long txnEpoch) {
        return refusals(coordinator.commit(transactionalId, producerId, (int) (txnEpoch >>> 32), txnEpoch))
                .thenAccept(after -> {
                    if (after.lastOutcome() != TransactionRecord.Outcome.COMMITTED) {
                        throw Status.FAILED_PRECONDITION.withDescription("the transaction was not committed: it was "
                                + after.lastOutcome()).asRuntimeException();
                    }
                });
    }

    /** The coordinator's refusals as their statuses; a topic or partition that does not exist is NOT_FOUND. */
    private static <T> CompletableFuture<T> refusals(CompletableFuture<T> call) {
        return call.exceptionallyCompose(failure -> {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            if (cause instanceof TransactionException refused) {
                return CompletableFuture.failedFuture(TransactionStatus.of(refused));
            }
            if (cause instanceof TransactionCoordinator.ContendedException contended) {
                return CompletableFuture.failedFuture(Status.ABORTED.withDescription(contended.getMessage())
                        .asRuntimeException());
            }
            if (cause instanceof IllegalArgumentException unknown && cause.getMessage() != null
                    && (cause.getMessage().startsWith("no topic") || cause.getMessage().contains(" has partitions "))) {
                return CompletableFuture.failedFuture(Status.NOT_FOUND.withDescription(unknown.getMessage())
                        .asRuntimeException());
            }
            return CompletableFuture.failedFuture(cause);
        });
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
