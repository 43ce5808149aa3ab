package io.strata.ingest.grpc;

import io.grpc.Status;
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
     * Completes when every partition is in the producer's open transaction at {@code txnEpoch}; fails with a
     * StatusRuntimeException saying why not otherwise.
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
     * Whether the transaction of {@code producerId} named by {@code txnEpoch} committed (and is the id's last):
     * the batches of a request that carried its commit, sent again after its answer was lost, find it so. A batch
     * refused for its transaction's state is then let through to the shard commit, which answers those stored
     * before as duplicates and refuses any other (its guard on the open transaction), as for every batch of a
     * transaction no longer open.
     */
    default CompletableFuture<Boolean> committed(String transactionalId, long producerId, long txnEpoch) {
        return CompletableFuture.completedFuture(false);
    }

    /** A node that knows of no transactions: every transactional batch is refused. */
    TransactionMembership NONE = (id, producer, epoch, partitions) -> CompletableFuture.failedFuture(
            Status.FAILED_PRECONDITION.withDescription("this node does not take transactional batches")
                    .asRuntimeException());
}
