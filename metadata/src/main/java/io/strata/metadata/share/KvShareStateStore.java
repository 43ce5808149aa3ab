package io.strata.metadata.share;

import io.strata.metadata.KeyLayout;
import io.strata.metadata.kv.KvGuard;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvStore;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/** {@link ShareStateStore} over the key-value seam: {@code {root}/share/{group}/{topic id}/{partition}}. */
public final class KvShareStateStore implements ShareStateStore {
    private final KvStore kv;
    private final KeyLayout keys;

    public KvShareStateStore(KvStore kv, KeyLayout keys) {
        this.kv = kv;
        this.keys = keys;
    }

    @Override
    public CompletableFuture<Optional<Stored>> load(String group, long topicId, int partition) {
        return kv.get(keys.shareState(group, topicId, partition))
                .thenApply(found -> found.map(kv -> new Stored(kv.value(), kv.modRevision())));
    }

    @Override
    public CompletableFuture<OptionalLong> save(String group, long topicId, int partition, byte[] state,
                                                long expectedRevision) {
        return io.strata.metadata.kv.KvCompareAndSet.put(kv, keys.shareState(group, topicId, partition), state, expectedRevision);
    }

    @Override
    public CompletableFuture<Map<Integer, Stored>> loadTopic(String group, long topicId) {
        String prefix = keys.shareStatePrefix(group) + topicId + "/";
        return kv.range(prefix).thenApply(range -> {
            Map<Integer, Stored> byPartition = new TreeMap<>();
            range.entries().forEach(e -> {
                try {
                    byPartition.put(Integer.parseInt(e.key().substring(prefix.length())),
                            new Stored(e.value(), e.modRevision()));
                } catch (NumberFormatException ignored) {
                    // not a partition's key
                }
            });
            return byPartition;
        });
    }

    @Override
    public CompletableFuture<List<Named>> list(String group) {
        String all = keys.shareStateRoot();
        return kv.range(group.isEmpty() ? all : keys.shareStatePrefix(group)).thenApply(range -> {
            List<Named> named = new java.util.ArrayList<>();
            range.entries().forEach(e -> {
                String[] parts = e.key().substring(all.length()).split("/");
                if (parts.length == 3) {
                    try {
                        named.add(new Named(parts[0], Long.parseLong(parts[1]), Integer.parseInt(parts[2]),
                                new Stored(e.value(), e.modRevision())));
                    } catch (NumberFormatException ignored) {
                        // not a partition's key
                    }
                }
            });
            return named;
        });
    }

    @Override
    public CompletableFuture<List<Named>> delete(List<Named> states) {
        List<Named> removed = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        int per = Math.max(1, kv.maxTxnOps());
        for (int from = 0; from < states.size(); from += per) {
            List<Named> chunk = states.subList(from, Math.min(states.size(), from + per));
            // A whole chunk at once; when one of its states moved, each of the others on its own.
            chain = chain.thenCompose(x -> kv.txn(chunk.stream().map(n -> new KvGuard(key(n), n.stored().revision()))
                    .toList(), chunk.stream().map(n -> (KvOp) new KvOp.Delete(key(n))).toList()).thenCompose(r -> {
                        if (r.succeeded()) {
                            removed.addAll(chunk);
                            return CompletableFuture.completedFuture(null);
                        }
                        return CompletableFuture.allOf(chunk.stream().map(n -> io.strata.metadata.kv.KvCompareAndSet
                                .delete(kv, key(n), n.stored().revision()).thenAccept(ok -> {
                                    if (ok) {
                                        removed.add(n);
                                    }
                                })).toArray(CompletableFuture[]::new));
                    }));
        }
        return chain.thenApply(x -> List.copyOf(removed));
    }

    private String key(Named n) {
        return keys.shareState(n.group(), n.topicId(), n.partition());
    }
}
