package io.strata.metadata.delay;

import io.strata.metadata.KeyLayout;
import io.strata.metadata.PartitionId;
import io.strata.metadata.kv.KvStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/** {@link DelayStateStore} over the key-value seam: {@code {root}/delay/{topic id}/{partition}}. */
public final class KvDelayStateStore implements DelayStateStore {
    private final KvStore kv;
    private final KeyLayout keys;

    public KvDelayStateStore(KvStore kv, KeyLayout keys) {
        this.kv = kv;
        this.keys = keys;
    }

    @Override
    public CompletableFuture<Optional<Stored>> load(PartitionId partition) {
        return kv.get(keys.delayState(partition.topicId(), partition.partition()))
                .thenApply(found -> found.map(e -> new Stored(e.value(), e.modRevision())));
    }

    @Override
    public CompletableFuture<OptionalLong> save(PartitionId partition, byte[] state, long expectedRevision) {
        return io.strata.metadata.kv.KvCompareAndSet.put(kv, keys.delayState(partition.topicId(), partition.partition()), state, expectedRevision);
    }

    @Override
    public CompletableFuture<Boolean> delete(PartitionId partition, long expectedRevision) {
        return io.strata.metadata.kv.KvCompareAndSet.delete(kv, keys.delayState(partition.topicId(), partition.partition()), expectedRevision);
    }

    @Override
    public CompletableFuture<List<Named>> list() {
        String root = keys.delayStateRoot();
        return kv.range(root).thenApply(range -> {
            List<Named> named = new ArrayList<>();
            range.entries().forEach(e -> {
                String[] parts = e.key().substring(root.length()).split("/");
                if (parts.length == 2) {
                    try {
                        named.add(new Named(new PartitionId(Long.parseLong(parts[0]), Integer.parseInt(parts[1])),
                                new Stored(e.value(), e.modRevision())));
                    } catch (IllegalArgumentException ignored) {
                        // not a partition's key
                    }
                }
            });
            return named;
        });
    }
}
