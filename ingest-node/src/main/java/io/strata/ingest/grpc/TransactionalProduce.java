package io.strata.ingest.grpc;

import io.grpc.Status;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.ProduceError;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.metadata.OneWriteTransaction;
import io.strata.metadata.PartitionId;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A transactional produce request's part in its transaction (docs/transactions.md): whether its batches may go
 * into a block (their transaction open and holding their partitions, which the request may add first), and the
 * commit a transaction's last request may carry. Thread-safe.
 */
final class TransactionalProduce {
    /** A node that knows of no transactions: every transactional batch is refused. */
    static final TransactionalProduce NONE = new TransactionalProduce(TransactionMembership.NONE,
            TransactionCommits.NONE);

    /** The transaction a request carries the commit of (kept apart: the request itself is let go once admitted). */
    record Ending(String transactionalId, long producerId, long txnEpoch, long timeoutMs) {
        /** The commit {@code request} carries, or null when it carries none. */
        static Ending of(ProduceRequest request, long timeoutMs) {
            return request.getCommitTransaction() ? new Ending(request.getTransactionalId(), request.getProducerId(),
                    request.getProducerEpoch(), timeoutMs) : null;
        }
    }

    private final TransactionMembership membership;
    private final TransactionCommits commits;

    TransactionalProduce(TransactionMembership membership, TransactionCommits commits) {
        this.membership = membership;
        this.commits = commits;
    }

    /**
     * Completes when the request's batches, going to {@code partitions}, may go into a block, with
     * the transaction they begin and commit in one write (null when they do not: their transaction is open, or
     * the request does not hold the whole of it); fails with the status that refuses them otherwise, nothing stored.
     */
    CompletableFuture<OneWriteTransaction> admit(ProduceRequest request, Set<PartitionId> partitions) {
        String transactionalId = request.getTransactionalId();
        long producerId = request.getProducerId();
        long txnEpoch = request.getProducerEpoch();
        if (!request.getAddPartitions()) {
            return membership.check(transactionalId, producerId, txnEpoch, partitions).thenApply(v -> null);
        }
        if (request.getCommitTransaction() && partitions.size() <= OneWriteTransaction.MAX_PARTITIONS) {
            // The whole transaction in this request (the client carries a commit only then): begun and committed by
            // the shard commit that stores its records, when it is the producer's next one.
            return membership.inOneWrite(transactionalId, producerId, txnEpoch, partitions).thenCompose(oneWrite ->
                    oneWrite != null ? CompletableFuture.completedFuture(oneWrite)
                            : membership.addAndCheck(transactionalId, producerId, txnEpoch, partitions)
                                    .thenApply(v -> null));
        }
        return membership.addAndCheck(transactionalId, producerId, txnEpoch, partitions).thenApply(v -> null);
    }

    /**
     * The transaction's commit, for a request that carries it ({@code end}), once its entries are stored (duplicates
     * were, before): said in the answer, whose appends stand either way. An entry not stored commits nothing.
     * {@code inOneWrite}: the request's batches went into their block with the transaction's commit ({@link
     * #admit}'s answer), so entries all stored now, none a duplicate, were stored by the write that committed it:
     * answered committed without asking the coordinator.
     */
    CompletableFuture<ProduceResponse> commitAfter(Ending end, ProduceResponse response, boolean inOneWrite) {
        boolean allNew = true;
        for (PartitionAppend a : response.getAppendsList()) {
            if (a.hasError()) {
                return CompletableFuture.completedFuture(response.toBuilder().setTransactionError(ProduceError
                        .newBuilder().setCode(Status.Code.FAILED_PRECONDITION.value()).setMessage("not committed: "
                                + "records of " + a.getTopic() + "/" + a.getPartition() + " were not stored")).build());
            }
            allNew &= !a.getDuplicate();
        }
        if (inOneWrite && allNew && response.getAppendsCount() > 0) {
            return CompletableFuture.completedFuture(response.toBuilder().setTransactionCommitted(true).build());
        }
        return commits.commit(end.transactionalId(), end.producerId(), end.txnEpoch())
                .orTimeout(end.timeoutMs(), TimeUnit.MILLISECONDS) // the stream's later answers wait behind it
                .handle((v, failure) -> {
                    if (failure == null) {
                        return response.toBuilder().setTransactionCommitted(true).build();
                    }
                    return response.toBuilder().setTransactionError(ProduceStream.errorOf(failure)).build();
                });
    }
}
