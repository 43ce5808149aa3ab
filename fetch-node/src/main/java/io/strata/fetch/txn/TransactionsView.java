package io.strata.fetch.txn;

import io.strata.metadata.PartitionId;
import io.strata.metadata.txn.TransactionStore;
import io.strata.transactions.StableOffsets;
import io.strata.transactions.TransactionCodec;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What read-committed reads need of transactions on this node (docs/transactions.md): how far each partition is
 * stable (the least start of a transaction open on it) and which transactions were aborted on it, kept by one
 * watch on the transactions' keys from a snapshot. A broken watch is replaced by a new snapshot and watch.
 * Thread-safe.
 */
public final class TransactionsView implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionsView.class);
    private static final long RETRY_MS = 1_000;

    private final TransactionStore store;
    private final ScheduledExecutorService timer;
    /** Guarded by this, as are the fields below. */
    private StableOffsets stable = new StableOffsets();
    /** Per partition, the aborted transactions' (producer id, epoch). */
    private Map<PartitionId, Set<List<Long>>> aborted = new HashMap<>();
    /** Per producer id, the record that showed it at its latest transaction: what this view can place. */
    private Map<Long, io.strata.transactions.TransactionRecord> latestByProducer = new HashMap<>();
    private AutoCloseable watch;
    private boolean closed;
    /** Whether any transaction is open or being aborted (written under the lock, read without it). */
    private volatile boolean holding;
    /** Told the partitions whose last stable offset or aborted transactions changed (outside the lock). */
    private volatile java.util.function.Consumer<Set<PartitionId>> moved = p -> { };

    /** @param timer only schedules a new snapshot after a broken watch */
    public TransactionsView(TransactionStore store, ScheduledExecutorService timer) {
        this.store = store;
        this.timer = timer;
    }

    /** Whom to tell, from the watch's thread, which partitions' last stable offsets or marks changed. */
    public void onMoved(java.util.function.Consumer<Set<PartitionId>> listener) {
        this.moved = listener;
    }

    /** Completes once the first snapshot is taken and followed. */
    public CompletableFuture<Void> start() {
        return store.snapshot().thenAccept(this::adopt);
    }

    /** The partition's last stable offset, given its end as this node knows it. */
    public long lastStable(PartitionId partition, long endOffset) {
        if (!holding) {
            return endOffset; // every read asks: without a transaction open anywhere, it takes no lock
        }
        synchronized (this) {
            return stable.lastStable(partition.topicId(), partition.partition(), endOffset);
        }
    }

    /**
     * Whether this view knows what became of the transaction of {@code producerId} at {@code epoch} on the
     * partition: a record showed its producer at that transaction or a later one, or it left a mark there. The
     * index's watch and this one are apart, so a batch can be seen before the record that began its transaction;
     * until that record is seen, readers must not pass the batch.
     */
    public synchronized boolean knows(PartitionId partition, long producerId, long epoch) {
        if (aborted(partition, producerId, epoch)) {
            return true;
        }
        io.strata.transactions.TransactionRecord latest = latestByProducer.get(producerId);
        if (latest == null || latest.txnEpoch() < epoch) {
            return false;
        }
        // A later transaction of the producer began after this one ended (its marks were written before); this one
        // ended; or it is open and holds this very partition (a partition it added since is not held yet).
        return latest.txnEpoch() > epoch || latest.state() == io.strata.transactions.TransactionRecord.State.READY
                || latest.partitions().stream().anyMatch(p -> p.topicId() == partition.topicId()
                && p.partition() == partition.partition());
    }

    /** Whether the transaction of {@code producerId} at {@code epoch} was aborted on the partition. */
    public synchronized boolean aborted(PartitionId partition, long producerId, long epoch) {
        Set<List<Long>> there = aborted.get(partition);
        return there != null && there.contains(List.of(producerId, epoch));
    }

    private void adopt(TransactionStore.Snapshot snapshot) {
        StableOffsets fresh = new StableOffsets();
        Map<PartitionId, Set<List<Long>>> marks = new HashMap<>();
        Map<Long, io.strata.transactions.TransactionRecord> epochs = new HashMap<>();
        snapshot.records().forEach(n -> apply(fresh, epochs, n.transactionalId(), n.stored().record()));
        snapshot.marks().forEach(m -> mark(marks, m, true));
        boolean again;
        synchronized (this) {
            if (closed) {
                return;
            }
            again = watch != null;
            stable = fresh;
            holding = fresh.holding() > 0;
            aborted = marks;
            latestByProducer = epochs;
            watch = store.watch(snapshot.revision(), new TransactionStore.Listener() {
                @Override
                public void onRecord(String transactionalId, byte[] record) {
                    Set<StableOffsets.Partition> changed;
                    synchronized (TransactionsView.this) {
                        changed = apply(stable, latestByProducer, transactionalId, record);
                        holding = stable.holding() > 0;
                    }
                    if (!changed.isEmpty()) {
                        Set<PartitionId> ids = new HashSet<>();
                        changed.forEach(p -> ids.add(new PartitionId(p.topicId(), p.partition())));
                        moved.accept(ids);
                    }
                }

                @Override
                public void onMark(TransactionStore.Aborted mark, boolean present) {
                    synchronized (TransactionsView.this) {
                        mark(aborted, mark, present);
                    }
                    moved.accept(Set.of(new PartitionId(mark.topicId(), mark.partition())));
                }

                @Override
                public void onBroken(Throwable cause) {
                    LOG.warn("the watch on transactions broke ({}); reading them again", cause.toString());
                    timer.schedule(() -> restart(), RETRY_MS, TimeUnit.MILLISECONDS);
                }
            });
        }
        if (again) {
            moved.accept(null); // read afresh after a broken watch: whatever readers wait for may have moved
        }
    }

    private void restart() {
        synchronized (this) {
            if (closed) {
                return;
            }
        }
        start().exceptionally(failure -> {
            LOG.warn("reading transactions failed ({}); trying again", failure.toString());
            timer.schedule(this::restart, RETRY_MS, TimeUnit.MILLISECONDS);
            return null;
        });
    }

    private static Set<StableOffsets.Partition> apply(StableOffsets into,
                                                      Map<Long, io.strata.transactions.TransactionRecord> epochs,
                                                      String transactionalId, byte[] record) {
        try {
            io.strata.transactions.TransactionRecord decoded = record == null ? null : TransactionCodec.decode(record);
            if (decoded != null && decoded.txnProducerId() > 0) {
                epochs.merge(decoded.txnProducerId(), decoded, (a, b) -> b.txnEpoch() >= a.txnEpoch() ? b : a);
            }
            return into.apply(transactionalId, decoded);
        } catch (IllegalArgumentException e) {
            // Written by a node of a later version, say: what it held stays held rather than shown uncommitted.
            LOG.warn("the record of transactional id {} does not decode; what it held stays held: {}",
                    transactionalId, e.getMessage());
            return Set.of();
        }
    }

    /** Whether any transaction was aborted on the partition (reads of others need not look for aborted records). */
    public synchronized boolean anyAborted(PartitionId partition) {
        return aborted.containsKey(partition);
    }

    private static void mark(Map<PartitionId, Set<List<Long>>> into, TransactionStore.Aborted m, boolean present) {
        PartitionId p = new PartitionId(m.topicId(), m.partition());
        List<Long> txn = List.of(m.producerId(), m.txnEpoch());
        if (present) {
            into.computeIfAbsent(p, x -> new HashSet<>()).add(txn);
        } else {
            Set<List<Long>> there = into.get(p);
            if (there != null && there.remove(txn) && there.isEmpty()) {
                into.remove(p);
            }
        }
    }

    @Override
    public synchronized void close() throws Exception {
        closed = true;
        if (watch != null) {
            watch.close();
        }
    }
}
