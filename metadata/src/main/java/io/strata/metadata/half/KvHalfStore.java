package io.strata.metadata.half;

import io.strata.metadata.KeyLayout;
import io.strata.metadata.PartitionId;
import io.strata.metadata.kv.KvGuard;
import io.strata.metadata.kv.KvLease;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** {@link HalfStore} over the key-value seam (keys in {@link KeyLayout}). */
public final class KvHalfStore implements HalfStore {
    private final KvStore kv;
    private final KeyLayout keys;

    public KvHalfStore(KvStore kv, KeyLayout keys) {
        this.kv = kv;
        this.keys = keys;
    }

    @Override
    public CompletableFuture<Optional<Stored>> scan(PartitionId p) {
        return kv.get(keys.halfScan(p.topicId(), p.partition()))
                .thenApply(found -> found.map(e -> new Stored(e.value(), e.modRevision())));
    }

    @Override
    public CompletableFuture<Map<PartitionId, Stored>> scans() {
        String root = keys.halfScans();
        return kv.range(root).thenApply(range -> {
            Map<PartitionId, Stored> scans = new HashMap<>();
            range.entries().forEach(e -> {
                String[] parts = e.key().substring(root.length()).split("/");
                PartitionId p = parts.length == 2 ? partition(parts[0], parts[1]) : null;
                if (p != null) {
                    scans.put(p, new Stored(e.value(), e.modRevision()));
                }
            });
            return scans;
        });
    }

    @Override
    public CompletableFuture<Optional<Stored>> message(PartitionId p, long offset) {
        return kv.get(keys.halfState(p.topicId(), p.partition(), offset))
                .thenApply(found -> found.map(e -> new Stored(e.value(), e.modRevision())));
    }

    @Override
    public CompletableFuture<List<Message>> messages() {
        return kv.range(keys.halfStates()).thenApply(this::messagesOf);
    }

    @Override
    public CompletableFuture<List<Message>> messages(PartitionId p, long from, long to) {
        return kv.range(keys.halfState(p.topicId(), p.partition(), from), keys.halfState(p.topicId(), p.partition(), to))
                .thenApply(this::messagesOf);
    }

    private List<Message> messagesOf(io.strata.metadata.kv.KvRange range) {
        String root = keys.halfStates();
        List<Message> messages = new ArrayList<>();
        range.entries().forEach(e -> {
            String[] parts = e.key().substring(root.length()).split("/");
            PartitionId p = parts.length == 3 ? partition(parts[0], parts[1]) : null;
            if (p != null) {
                try {
                    messages.add(new Message(p, Long.parseLong(parts[2]), new Stored(e.value(), e.modRevision())));
                } catch (NumberFormatException ignored) {
                    // not a half message's key
                }
            }
        });
        return messages;
    }

    private static PartitionId partition(String topicId, String partition) {
        try {
            return new PartitionId(Long.parseLong(topicId), Integer.parseInt(partition));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public CompletableFuture<java.util.OptionalLong> apply(PartitionId p, long scanRevision, byte[] scan,
                                                           List<Change> changes) {
        if (changes.size() > maxChanges()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(changes.size()
                    + " changes of half messages at once, over " + maxChanges()));
        }
        if (scan != null && scanRevision < 0) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("a scan is written only under a guard"));
        }
        List<KvGuard> guards = new ArrayList<>();
        List<KvOp> ops = new ArrayList<>();
        String scanKey = keys.halfScan(p.topicId(), p.partition());
        if (scanRevision >= 0) {
            guards.add(new KvGuard(scanKey, scanRevision));
        }
        if (scan != null) {
            ops.add(new KvOp.Put(scanKey, scan));
        }
        for (Change c : changes) {
            String key = keys.halfState(p.topicId(), p.partition(), c.offset());
            guards.add(new KvGuard(key, c.expectedRevision()));
            ops.add(c.value() == null ? new KvOp.Delete(key) : new KvOp.Put(key, c.value()));
        }
        return kv.txn(guards, ops).thenApply(r -> r.succeeded() ? java.util.OptionalLong.of(r.revision())
                : java.util.OptionalLong.empty());
    }

    @Override
    public CompletableFuture<Boolean> deleteScan(PartitionId p, long revision) {
        return io.strata.metadata.kv.KvCompareAndSet.delete(kv, keys.halfScan(p.topicId(), p.partition()), revision);
    }

    @Override
    public int maxChanges() {
        return kv.maxTxnOps() - 1;
    }

    @Override
    public CompletableFuture<Registration> registerProducer(String group, String nodeId, Duration ttl) {
        String key = keys.halfProducers(group) + nodeId;
        return kv.grantLease(ttl).thenCompose(lease -> kv.txn(List.of(), List.of(new KvOp.Put(key, new byte[0],
                lease.id()))).handle((r, e) -> {
                    if (e != null) {
                        lease.close();
                        throw new java.util.concurrent.CompletionException(e);
                    }
                    return (Registration) new Registration() {
                        @Override
                        public CompletableFuture<Void> lost() {
                            return lease.lost();
                        }

                        @Override
                        public void close() {
                            lease.close();
                        }
                    };
                }));
    }

    @Override
    public CompletableFuture<List<String>> producerNodes(String group) {
        String prefix = keys.halfProducers(group);
        return kv.range(prefix).thenApply(range -> range.entries().stream()
                .map(e -> e.key().substring(prefix.length())).filter(n -> !n.isEmpty() && !n.contains("/")).toList());
    }
}
