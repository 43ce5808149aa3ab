package io.strata.ingest.txn;

import io.strata.ingest.grpc.TransactionMembership;
import io.strata.metadata.PartitionId;
import io.strata.metadata.txn.TransactionStore;
import io.strata.transactions.TransactionCodec;
import io.strata.transactions.TransactionException;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.Transactions;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@link TransactionMembership} from the transactional ids' stored records. A record that admitted a producer's
 * batches is kept for a moment, so a transaction's stream of batches costs one read, not one each; anything it
 * does not admit is read again before the batch is refused (the producer may have added the partition since).
 * What a kept record lets through after its transaction ended is safe: fenced at commit, or marked by the abort.
 */
public final class StoredTransactionMembership implements TransactionMembership {
    /** How long a record that admitted batches is kept. */
    private static final long KEEP_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** Records kept at most; past it, all are dropped (each is read again on its producer's next batch). */
    private static final int MAX_KEPT = 10_000;

    private record Kept(TransactionRecord record, long atNanos) {
    }

    private final TransactionStore store;
    private final Map<String, Kept> admitting = new ConcurrentHashMap<>();

    public StoredTransactionMembership(TransactionStore store) {
        this.store = store;
    }

    @Override
    public CompletableFuture<Void> check(String transactionalId, long producerId, long txnEpoch,
                                         Set<PartitionId> partitions) {
        Kept kept = admitting.get(transactionalId);
        if (kept != null && System.nanoTime() - kept.atNanos() < KEEP_NANOS
                && refusal(kept.record(), producerId, txnEpoch, partitions) == null) {
            return CompletableFuture.completedFuture(null);
        }
        return store.load(transactionalId).thenApply(found -> {
            TransactionRecord current = found.map(s -> TransactionCodec.decode(s.record())).orElse(null);
            TransactionException refused = refusal(current, producerId, txnEpoch, partitions);
            if (refused != null) {
                throw TransactionStatus.of(refused);
            }
            if (admitting.size() >= MAX_KEPT) {
                admitting.clear();
            }
            admitting.put(transactionalId, new Kept(current, System.nanoTime()));
            return null;
        });
    }

    private static TransactionException refusal(TransactionRecord current, long producerId, long txnEpoch,
                                                Set<PartitionId> partitions) {
        for (PartitionId p : partitions) {
            TransactionException refused = Transactions.refusesBatch(current, producerId, txnEpoch, p.topicId(),
                    p.partition());
            if (refused != null) {
                return refused;
            }
        }
        return null;
    }
}
