package io.strata.fetch.index;

import io.strata.metadata.ChunkRef;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.IndexListener;
import io.strata.metadata.IndexSnapshot;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fetch node's picture of the block index: read once, then kept current by a watch, so a fetch never
 * asks the metadata store and a consumer waiting at the end of a partition is woken by the commit that
 * extends it. If the watch breaks (history compacted, session lost) the view is read again.
 *
 * <p>Threads: changes arrive on the metadata store's watch thread; waits time out on the {@code timer}
 * the owner gives. Thread-safe.
 */
public final class IndexView implements IndexListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IndexView.class);

    private final MetadataStore store;
    private final ScheduledExecutorService timer;
    private final ConcurrentHashMap<PartitionId, PartitionIndex> partitions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, List<ChunkRef>> entriesByKey = new ConcurrentHashMap<>();
    /** Every indexed chunk by object, so a GET for one chunk can take its neighbours along. */
    private final ConcurrentHashMap<String, Set<ChunkRef>> chunksByObject = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<PartitionId, CopyOnWriteArrayList<CompletableFuture<Boolean>>> waiters =
            new ConcurrentHashMap<>();
    private volatile AutoCloseable watch;
    private volatile boolean closed;

    public IndexView(MetadataStore store, ScheduledExecutorService timer) {
        this.store = store;
        this.timer = timer;
    }

    /** Reads the index and starts watching; completes when the view is current. */
    public CompletableFuture<Void> start() {
        return store.readIndex().thenAccept(this::load);
    }

    private void load(IndexSnapshot snapshot) {
        partitions.clear();
        entriesByKey.clear();
        chunksByObject.clear();
        snapshot.entries().forEach(this::apply);
        watch = store.watchIndex(snapshot.revision(), this);
        LOG.info("index view loaded: {} entries at revision {}", snapshot.entries().size(), snapshot.revision());
        wakeAll();
    }

    public PartitionIndex partition(PartitionId id) {
        PartitionIndex index = partitions.get(id);
        return index != null ? index : new PartitionIndex();
    }

    /** The indexed chunks stored in the object, in no particular order. */
    public Collection<ChunkRef> chunksOfObject(String objectKey) {
        Set<ChunkRef> chunks = chunksByObject.get(objectKey);
        return chunks == null ? List.of() : chunks;
    }

    /**
     * Completes with true as soon as the partition grows past {@code offset} or may have (a commit to it was
     * seen: callers look again), or with false after {@code maxWait}.
     */
    public CompletableFuture<Boolean> awaitBeyond(PartitionId id, long offset, Duration maxWait) {
        CompletableFuture<Boolean> waiter = new CompletableFuture<>();
        var list = waiters.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>());
        list.add(waiter);
        // Checked after registering, so a commit that lands in between is not missed.
        if (partition(id).endOffset() > offset) {
            waiter.complete(true);
        } else {
            var timeout = timer.schedule(() -> waiter.complete(false), maxWait.toMillis(), TimeUnit.MILLISECONDS);
            waiter.whenComplete((v, e) -> timeout.cancel(false));
        }
        waiter.whenComplete((v, e) -> list.remove(waiter));
        return waiter;
    }

    @Override
    public void onEntry(IndexEntry entry) {
        apply(entry);
        for (ChunkRef chunk : entry.chunks()) {
            var list = waiters.get(chunk.partition());
            if (list != null) {
                list.forEach(w -> w.complete(true));
            }
        }
    }

    @Override
    public void onRemoved(int shard, long sequence) {
        List<ChunkRef> removed = entriesByKey.remove(key(shard, sequence));
        if (removed != null) {
            removed.forEach(c -> {
                partitions.getOrDefault(c.partition(), new PartitionIndex()).remove(c);
                chunksByObject.computeIfPresent(c.objectKey(), (k, set) -> {
                    set.remove(c);
                    return set.isEmpty() ? null : set;
                });
            });
        }
    }

    @Override
    public void onReset(Throwable cause) {
        if (closed) {
            return;
        }
        LOG.warn("index watch lost ({}); reading the index again", cause.toString());
        closeWatch();
        timer.schedule(() -> start().exceptionally(e -> {
            onReset(e);
            return null;
        }), 200, TimeUnit.MILLISECONDS);
    }

    private void apply(IndexEntry entry) {
        entriesByKey.put(key(entry.shard(), entry.sequence()), entry.chunks());
        for (ChunkRef chunk : entry.chunks()) {
            partitions.computeIfAbsent(chunk.partition(), p -> new PartitionIndex()).add(chunk);
            chunksByObject.computeIfAbsent(chunk.objectKey(), k -> ConcurrentHashMap.newKeySet()).add(chunk);
        }
    }

    private void wakeAll() {
        for (Map.Entry<PartitionId, CopyOnWriteArrayList<CompletableFuture<Boolean>>> e : waiters.entrySet()) {
            long end = partition(e.getKey()).endOffset();
            if (end > 0) {
                e.getValue().forEach(w -> w.complete(true));
            }
        }
    }

    private static long key(int shard, long sequence) {
        return ((long) shard << 48) ^ sequence;
    }

    private void closeWatch() {
        AutoCloseable w = watch;
        watch = null;
        if (w != null) {
            try {
                w.close();
            } catch (Exception e) {
                LOG.debug("closing index watch", e);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        closeWatch();
        waiters.values().forEach(list -> list.forEach(w -> w.complete(false)));
    }
}
