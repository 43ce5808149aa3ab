package io.strata.ingest.grpc;

import io.grpc.Status;
import java.util.concurrent.CompletableFuture;

/**
 * Commits a transaction for a produce request that carries its commit (ProduceRequest.commit_transaction): its
 * last request, whose entries are all stored, so the producer needs no EndTransaction round trip.
 */
@FunctionalInterface
public interface TransactionCommits {
    /**
     * Completes once the transaction of {@code producerId} named by {@code txnEpoch} is committed (or was already);
     * fails with a StatusRuntimeException saying why not otherwise.
     */
    CompletableFuture<Void> commit(String transactionalId, long producerId, long txnEpoch);

    /** A node that knows of no transactions. */
    TransactionCommits NONE = (id, producer, epoch) -> CompletableFuture.failedFuture(
            Status.FAILED_PRECONDITION.withDescription("this node does not commit transactions").asRuntimeException());
}
