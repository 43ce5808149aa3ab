package io.strata.ingest.grpc;

import io.grpc.Status;
import io.strata.metadata.OneWriteTransaction;
import io.strata.metadata.PartitionId;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Whether a transactional producer's batches may be written where they are going: only to partitions its open
 * transaction added (docs/transactions.md), so that every record of a transaction lies where read-committed
 * readers are held back while it is open and where its abort marks it.
 */
public interface TransactionMembership {
    /**
     * Completes when every partition is in the producer's open transaction at {@code txnEpoch}, or when that
     * transaction committed (its batches, sent again, then go on to the shard commit, which answers duplicates and
     * refuses any other); fails with a StatusRuntimeException saying why not otherwise.
     */
    CompletableFuture<Void> check(String transactionalId, long producerId, long txnEpoch, Set<PartitionId> partitions);

    /**
     * As {@link #check}, for a request that adds its own partitions (ProduceRequest.add_partitions): those the
     * transaction at {@code txnEpoch} does not hold yet are added first, beginning it when it is the producer's next
     * one; refused as AddPartitions would be otherwise.
     */
    default CompletableFuture<Void> addAndCheck(String transactionalId, long producerId, long txnEpoch,
                                                Set<PartitionId> partitions) {
        return check(transactionalId, producerId, txnEpoch, partitions);
    }

    /**
     * For a request that holds the whole of the transaction at {@code txnEpoch} (it adds its own partitions and
     * carries the commit): the write that begins and commits that transaction with the request's batches, when
     * the transaction is the producer's next one (docs/transactions.md, "A transaction in one write"); null when
     * it is not, and the request is to take {@link #addAndCheck}'s path, which answers any refusal.
     */
    default CompletableFuture<OneWriteTransaction> inOneWrite(String transactionalId, long producerId, long txnEpoch,
                                                              Set<PartitionId> partitions) {
        return CompletableFuture.completedFuture(null);
    }

    /** A node that knows of no transactions: every transactional batch is refused. */
    TransactionMembership NONE = (id, producer, epoch, partitions) -> CompletableFuture.failedFuture(
            Status.FAILED_PRECONDITION.withDescription("this node does not take transactional batches")
                    .asRuntimeException());
}
