package io.strata.ingest.txn;

import io.strata.api.ErrorReason;
import io.strata.ingest.grpc.TransactionMembership;
import io.strata.metadata.OneWriteTransaction;
import io.strata.metadata.PartitionId;
import io.strata.metadata.txn.TransactionStore;
import io.strata.transactions.TransactionCodec;
import io.strata.transactions.TransactionError;
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
 * Requests that add their own partitions add them here, through the transaction coordinator.
 *
 * <p>The check is not the last word: it runs before the batch enters a block, and its transaction may end before
 * the block commits. The shard commit guards the transaction's open key, so a batch of a transaction no longer
 * open is refused there, unless it is a duplicate of one stored while it was (docs/transactions.md).
 */
public final class StoredTransactionMembership implements TransactionMembership {
    /** How long a record that admitted batches is kept. */
    private static final long KEEP_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** Records kept at most; past it, all are dropped (each is read again on its producer's next batch). */
    private static final int MAX_KEPT = 10_000;

    private record Kept(TransactionRecord record, long atNanos) {
    }

    /** Adds partitions to the transaction a produce request names (the transaction coordinator's). */
    @FunctionalInterface
    public interface Adder {
        CompletableFuture<TransactionRecord> add(String transactionalId, long producerId, long txnEpoch,
                                                 Set<PartitionId> partitions);
    }

    private final TransactionStore store;
    private final Adder adder;
    private final Transactions.Limits limits;
    private final Map<String, Kept> admitting = new ConcurrentHashMap<>();
    /**
     * The last transaction decided to be written in one write by transactional id, and where its chain began; the
     * least recently decided go first past {@link #MAX_KEPT} ids (a pipelined producer whose chain went is refused
     * its next transaction, and aborts it). Under its own lock.
     */
    private final Map<String, Chain> chains = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Chain> eldest) {
            return size() > MAX_KEPT;
        }
    };

    /**
     * A transaction decided to be written in one write ({@code decided}), chained or not, and the first of its chain:
     * its epoch and the record's revision it was decided on. A producer's next transaction is chained to it while
     * the record shows the chain not yet stored whole. Never trusted beyond that: a chain not stored only makes
     * the chained transaction's guard fail, and nothing is stored.
     */
    private record Chain(OneWriteTransaction decided, long rootTxnEpoch, long rootRevision) {
        /**
         * Whether transaction {@code txnEpoch} of the producer follows {@code decided} while the record ({@code
         * current} at {@code revision}) is where the chain began, or at a transaction of the chain before it.
         */
        boolean leadsTo(TransactionRecord current, long revision, long producerId, long txnEpoch) {
            if (!decided.holds(producerId, txnEpoch - 1)) {
                return false;
            }
            if (revision == rootRevision) {
                return true; // nothing of the chain stored yet
            }
            return current.producerId() == producerId && current.txnProducerId() == producerId
                    && current.producerEpoch() == (int) (txnEpoch >>> 32)
                    && current.state() == TransactionRecord.State.READY
                    && current.lastOutcome() == TransactionRecord.Outcome.COMMITTED
                    && current.txnEpoch() >= rootTxnEpoch && current.txnEpoch() < decided.txnEpoch();
        }
    }

    /** A node whose requests cannot add their own partitions (they are refused as with {@link #check}). */
    public StoredTransactionMembership(TransactionStore store) {
        this(store, null);
    }

    /** @param adder adds the partitions of requests that add their own; null: such requests are only checked */
    public StoredTransactionMembership(TransactionStore store, Adder adder) {
        this(store, adder, Transactions.DEFAULT_LIMITS);
    }

    /**
     * @param adder  adds the partitions of requests that add their own; null: such requests are only checked
     * @param limits the transaction coordinator's
     */
    public StoredTransactionMembership(TransactionStore store, Adder adder, Transactions.Limits limits) {
        this.store = store;
        this.adder = adder;
        this.limits = limits;
    }

    /**
     * {@inheritDoc} The record is read afresh (its revision guards the write), never taken from those kept. When it
     * is not the producer's next one by the record, it may be by the last transaction this node decided so for the
     * id, still on its way to the store (a producer that sends its next transaction before the last one's answer):
     * it is then chained to that one ({@link OneWriteTransaction#chainedTo}), stored only after it and never
     * without it. A node whose requests cannot add their own partitions writes none in one write either.
     */
    @Override
    public CompletableFuture<OneWriteTransaction> inOneWrite(String transactionalId, long producerId, long txnEpoch,
                                                             Set<PartitionId> partitions) {
        if (adder == null) {
            return CompletableFuture.completedFuture(null);
        }
        return store.load(transactionalId).thenApply(found -> {
            if (found.isEmpty()) {
                return null;
            }
            long now = System.currentTimeMillis();
            TransactionRecord current = TransactionCodec.decode(found.get().record());
            TransactionRecord committed = Transactions.commitInOneWrite(current, producerId, txnEpoch,
                    partitions.size(), limits, now);
            Chain chain = null;
            if (committed != null) {
                chain = new Chain(new OneWriteTransaction(transactionalId, producerId, txnEpoch,
                        found.get().revision(), TransactionCodec.encode(committed)), txnEpoch, found.get().revision());
            } else {
                Chain last;
                synchronized (chains) {
                    last = chains.get(transactionalId);
                }
                TransactionRecord after = last == null || !last.leadsTo(current, found.get().revision(), producerId,
                        txnEpoch) ? null : Transactions.commitInOneWrite(TransactionCodec.decode(
                                last.decided().committedRecord()), producerId, txnEpoch, partitions.size(), limits, now);
                chain = after == null ? null : new Chain(OneWriteTransaction.chainedTo(last.decided(), txnEpoch,
                        TransactionCodec.encode(after)), last.rootTxnEpoch(), last.rootRevision());
            }
            if (chain == null) {
                return null;
            }
            synchronized (chains) {
                chains.put(transactionalId, chain);
            }
            return chain.decided();
        });
    }

    @Override
    public CompletableFuture<Void> addAndCheck(String transactionalId, long producerId, long txnEpoch,
                                               Set<PartitionId> partitions) {
        if (adder == null || admitsFromKept(transactionalId, producerId, txnEpoch, partitions)) {
            return check(transactionalId, producerId, txnEpoch, partitions);
        }
        // The first request of each transaction lands here (the kept record is the last transaction's): the add
        // reads the record anyway, and stores nothing when the partitions are in already.
        long readAt = System.nanoTime();
        return adder.add(transactionalId, producerId, txnEpoch, partitions).exceptionallyCompose(failure -> {
            Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            // The node's adder answers refusals as their statuses (TransactionRole), a bare coordinator as its
            // exceptions: either way by the refusal's name, never by its words.
            Throwable answer = cause instanceof TransactionException refused ? TransactionStatus.of(refused) : cause;
            if (ErrorReason.INVALID_STATE.equals(ErrorReason.of(answer))) {
                // Not open and not the next: perhaps its batches, sent again, of a transaction that committed.
                return check(transactionalId, producerId, txnEpoch, partitions)
                        .exceptionallyCompose(notCommitted -> CompletableFuture.failedFuture(answer))
                        .thenApply(v -> (TransactionRecord) null);
            }
            return CompletableFuture.failedFuture(answer);
        }).thenApply(after -> {
            if (after == null) {
                return null; // let through by the check
            }
            TransactionException refused = refusal(after, producerId, txnEpoch, partitions);
            if (refused != null) {
                throw TransactionStatus.of(refused);
            }
            keep(transactionalId, after, readAt);
            return null;
        });
    }

    /** Whether the record kept for the id (fresh enough) admits the batches; one too old is dropped. */
    private boolean admitsFromKept(String transactionalId, long producerId, long txnEpoch,
                                   Set<PartitionId> partitions) {
        Kept kept = admitting.get(transactionalId);
        if (kept != null && System.nanoTime() - kept.atNanos() >= KEEP_NANOS) {
            admitting.remove(transactionalId, kept);
            return false;
        }
        return kept != null && refusal(kept.record(), producerId, txnEpoch, partitions) == null;
    }

    private void keep(String transactionalId, TransactionRecord record, long readAt) {
        if (admitting.size() >= MAX_KEPT) {
            admitting.clear();
        }
        admitting.put(transactionalId, new Kept(record, readAt));
    }

    /**
     * {@inheritDoc} A batch of the named transaction when it is the id's last and committed is let through too:
     * the batches of a request that carried its commit, sent again after its answer was lost (alone or together,
     * with or without the flag). The shard commit answers those stored before as duplicates and refuses any other
     * (its guard on the open transaction), as for every batch of a transaction no longer open.
     */
    @Override
    public CompletableFuture<Void> check(String transactionalId, long producerId, long txnEpoch,
                                         Set<PartitionId> partitions) {
        if (admitsFromKept(transactionalId, producerId, txnEpoch, partitions)) {
            return CompletableFuture.completedFuture(null);
        }
        long readAt = System.nanoTime(); // kept from before the read: its age covers the read's latency too
        return store.load(transactionalId).thenApply(found -> {
            TransactionRecord current = found.map(s -> TransactionCodec.decode(s.record())).orElse(null);
            TransactionException refused = refusal(current, producerId, txnEpoch, partitions);
            if (refused != null && !(refused.error() == TransactionError.INVALID_STATE
                    && committedAsNamed(current, producerId, txnEpoch))) {
                throw TransactionStatus.of(refused);
            }
            if (refused == null) {
                keep(transactionalId, current, readAt);
            }
            return null;
        });
    }

    private static boolean committedAsNamed(TransactionRecord r, long producerId, long txnEpoch) {
        return r.state() == TransactionRecord.State.READY && r.lastOutcome() == TransactionRecord.Outcome.COMMITTED
                && r.txnProducerId() == producerId && r.txnEpoch() == txnEpoch;
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
