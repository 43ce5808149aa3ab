package io.strata.metadata.txn;

import io.strata.metadata.KeyLayout;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * {@link TransactionStore} over the key-value seam: {@code {root}/txn/state/{transactional id}} holds a record,
 * {@code {root}/txn/aborted/{topic id}/{partition}/{producer id}-{txn epoch}} a mark (its value the start offset,
 * 8 bytes).
 */
public final class KvTransactionStore implements TransactionStore {
    private final KvStore kv;
    private final KeyLayout keys;

    public KvTransactionStore(KvStore kv, KeyLayout keys) {
        this.kv = kv;
        this.keys = keys;
    }

    @Override
    public CompletableFuture<Optional<Stored>> load(String transactionalId) {
        return kv.get(keys.transactionState(transactionalId))
                .thenApply(found -> found.map(e -> new Stored(e.value(), e.modRevision())));
    }

    @Override
    public CompletableFuture<OptionalLong> save(String transactionalId, byte[] record, long expectedRevision,
                                                Open closes, Open opens, List<GroupOffset> offsets) {
        if (closes != null && closes.equals(opens)) {
            closes = opens = null;
        }
        String key = keys.transactionState(transactionalId);
        List<KvOp> ops = new ArrayList<>(3);
        ops.add(new KvOp.Put(key, record, 0));
        if (closes != null) {
            ops.add(new KvOp.Delete(keys.openTransaction(closes.producerId(), closes.txnEpoch())));
        }
        if (opens != null) {
            ops.add(new KvOp.Put(keys.openTransaction(opens.producerId(), opens.txnEpoch()), new byte[0], 0));
        }
        io.strata.metadata.kv.KvGuard guard = expectedRevision == 0 ? io.strata.metadata.kv.KvGuard.absent(key)
                : new io.strata.metadata.kv.KvGuard(key, expectedRevision);
        List<io.strata.metadata.kv.KvGuard> guards = new ArrayList<>(1 + offsets.size());
        guards.add(guard);
        long now = System.currentTimeMillis();
        for (GroupOffset o : offsets) {
            guards.add(new io.strata.metadata.kv.KvGuard(keys.groupOwner(o.group(), o.topic(), o.partition()),
                    o.ownerRevision()));
            ops.add(new KvOp.Put(keys.groupOffset(o.group(), o.topic(), o.partition()),
                    io.strata.metadata.codec.GroupCodec.encode(new io.strata.metadata.group.OffsetCommit(
                            new io.strata.metadata.group.TopicPartition(o.topic(), o.partition()), o.offset(),
                            o.metadata(), o.topicId(), o.ownerEpoch()), now, o.memberId()), 0));
        }
        return kv.txn(guards, ops)
                .thenApply(r -> r.succeeded() ? OptionalLong.of(r.revision()) : OptionalLong.empty());
    }

    @Override
    public CompletableFuture<Boolean> isOpen(Open transaction) {
        return kv.get(keys.openTransaction(transaction.producerId(), transaction.txnEpoch())).thenApply(Optional::isPresent);
    }

    @Override
    public CompletableFuture<Boolean> delete(String transactionalId, long expectedRevision) {
        return io.strata.metadata.kv.KvCompareAndSet.delete(kv, keys.transactionState(transactionalId), expectedRevision);
    }

    @Override
    public CompletableFuture<List<Named>> list() {
        String prefix = keys.transactionStates();
        return kv.range(prefix).thenApply(range -> range.entries().stream()
                .map(e -> new Named(e.key().substring(prefix.length()), new Stored(e.value(), e.modRevision())))
                .toList());
    }

    @Override
    public CompletableFuture<Void> markAborted(List<Aborted> marks) {
        return inBatches(marks, m -> new KvOp.Put(key(m), ByteBuffer.allocate(8).putLong(m.startOffset()).array(),
                0));
    }

    @Override
    public CompletableFuture<List<Aborted>> aborted(long topicId, int partition) {
        return kv.range(keys.abortedTransactions(topicId, partition)).thenApply(this::marks);
    }

    @Override
    public CompletableFuture<List<Aborted>> allAborted() {
        return kv.range(keys.abortedTransactions()).thenApply(this::marks);
    }

    @Override
    public CompletableFuture<Void> forgetAborted(List<Aborted> marks) {
        return inBatches(marks, m -> new KvOp.Delete(key(m)));
    }

    @Override
    public CompletableFuture<Snapshot> snapshot() {
        return kv.range(keys.transactionRoot()).thenApply(range -> {
            List<Named> records = new ArrayList<>();
            List<io.strata.metadata.kv.KeyValue> markEntries = new ArrayList<>();
            for (io.strata.metadata.kv.KeyValue e : range.entries()) {
                if (e.key().startsWith(keys.transactionStates())) {
                    records.add(new Named(e.key().substring(keys.transactionStates().length()),
                            new Stored(e.value(), e.modRevision())));
                } else if (e.key().startsWith(keys.abortedTransactions())) {
                    markEntries.add(e);
                }
            }
            return new Snapshot(records, marks(new io.strata.metadata.kv.KvRange(markEntries, range.revision())),
                    range.revision());
        });
    }

    @Override
    public AutoCloseable watch(long afterRevision, Listener listener) {
        return kv.watch(keys.transactionRoot(), afterRevision, new io.strata.metadata.kv.KvWatchListener() {
            @Override
            public void onEvents(List<io.strata.metadata.kv.KvEvent> events) {
                for (io.strata.metadata.kv.KvEvent e : events) {
                    boolean put = e.type() == io.strata.metadata.kv.KvEvent.Type.PUT;
                    if (e.key().startsWith(keys.transactionStates())) {
                        listener.onRecord(e.key().substring(keys.transactionStates().length()), put ? e.value() : null);
                    } else if (e.key().startsWith(keys.abortedTransactions())) {
                        // A removed mark's value is not in the event: its key says all but the start.
                        Aborted m = mark(e.key(), put ? e.value() : new byte[8]);
                        if (m != null) {
                            listener.onMark(m, put);
                        }
                    }
                }
            }

            @Override
            public void onBroken(Throwable cause) {
                listener.onBroken(cause);
            }
        });
    }

    private String key(Aborted m) {
        return keys.abortedTransaction(m.topicId(), m.partition(), m.producerId(), m.txnEpoch());
    }

    /** One metadata transaction per batch the store takes, one after the other. */
    private CompletableFuture<Void> inBatches(List<Aborted> marks, Function<Aborted, KvOp> op) {
        CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
        int step = kv.maxTxnOps();
        for (int from = 0; from < marks.size(); from += step) {
            List<KvOp> ops = marks.subList(from, Math.min(marks.size(), from + step)).stream().map(op).toList();
            done = done.thenCompose(v -> kv.txn(List.of(), ops).thenApply(r -> null));
        }
        return done;
    }

    /** The marks of a range; a key of another shape, or a value that is not 8 bytes, is not a mark and is left out. */
    private List<Aborted> marks(io.strata.metadata.kv.KvRange range) {
        List<Aborted> marks = new ArrayList<>();
        range.entries().forEach(e -> {
            Aborted m = mark(e.key(), e.value());
            if (m != null) {
                marks.add(m);
            }
        });
        return marks;
    }

    /** The mark a key and value hold, or null for a key of another shape or a value that is not 8 bytes. */
    private Aborted mark(String key, byte[] value) {
        String[] parts = key.substring(keys.abortedTransactions().length()).split("/");
        String[] producer = parts.length == 3 ? parts[2].split("-") : new String[0];
        if (producer.length != 2 || value.length != 8) {
            return null;
        }
        try {
            return new Aborted(Long.parseLong(parts[0]), Integer.parseInt(parts[1]), Long.parseLong(producer[0]),
                    Long.parseLong(producer[1]), ByteBuffer.wrap(value).getLong());
        } catch (NumberFormatException notAMark) {
            return null;
        }
    }
}
