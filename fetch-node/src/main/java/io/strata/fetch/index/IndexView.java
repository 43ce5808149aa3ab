package io.strata.fetch.index;

import io.strata.metadata.ChunkRef;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.IndexListener;
import io.strata.metadata.IndexRef;
import io.strata.metadata.IndexSnapshot;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fetch node's picture of the block index, bounded: a metadata shard's entries (every partition of
 * the shard) are read by range when one of its partitions is first asked for, then kept current by a
 * watch, so a fetch rarely asks the metadata store and a consumer waiting at the end of a partition is
 * woken by the commit that extends it. When more than {@code maxChunks} chunks are held, the shards read
 * least recently are dropped (never one a consumer is waiting on) and read again when next needed.
 *
 * <p>One watch follows the whole index from the revision the view started at. Its events for a shard not
 * held are ignored (a later read of the shard includes them); for a shard being read they are applied as
 * they come, which is safe because an entry key is written once and removed once, never reused: applying a
 * put twice changes nothing, and removals seen while the read is under way are applied again after it.
 * If the watch breaks (history compacted, session lost) every shard is dropped and the watch restarts.
 *
 * <p>Threads: changes arrive on the metadata store's watch thread, shard reads complete on its threads;
 * waits time out on the {@code timer} the owner gives. Thread-safe.
 */
public final class IndexView implements IndexListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IndexView.class);

    private final MetadataStore store;
    private final ScheduledExecutorService timer;
    private final long maxChunks;
    private final ConcurrentHashMap<Integer, Shard> shards = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<PartitionId, PartitionIndex> partitions = new ConcurrentHashMap<>();
    /** Every held chunk by object, so a GET for one chunk can take its neighbours along. */
    private final ConcurrentHashMap<String, Set<ChunkRef>> chunksByObject = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<PartitionId, CopyOnWriteArrayList<CompletableFuture<Boolean>>> waiters =
            new ConcurrentHashMap<>();
    private final AtomicLong heldChunks = new AtomicLong();
    private final AtomicLong shardReads = new AtomicLong();
    private final AtomicLong clock = new AtomicLong();
    private volatile AutoCloseable watch;
    private volatile boolean closed;
    private volatile java.util.function.Consumer<PartitionId> readersAtEnd = p -> { };
    private final List<java.util.function.Consumer<PartitionId>> writtenListeners = new CopyOnWriteArrayList<>();
    /** Watches set so far: a change tells that commits made while no watch stood may have gone unseen. */
    private final AtomicLong watchStarts = new AtomicLong();

    /** One metadata shard's entries, held from the moment its read starts. */
    private final class Shard {
        final int id;
        final CompletableFuture<Void> loaded = new CompletableFuture<>();
        final ConcurrentHashMap<Long, List<IndexRef>> entries = new ConcurrentHashMap<>();
        /** The transactional batches the entries carry, by sequence (only entries that carry any). */
        final ConcurrentHashMap<Long, List<io.strata.metadata.ProducerAppend>> transactional = new ConcurrentHashMap<>();
        final Set<PartitionId> partitionIds = ConcurrentHashMap.newKeySet();
        /** Removals seen while the read was under way (guarded by this). */
        final List<Long> removedWhileLoading = new ArrayList<>();
        volatile long lastUsed;
        volatile boolean dropped;

        Shard(int id) {
            this.id = id;
            touch();
        }

        void touch() {
            lastUsed = clock.incrementAndGet();
        }
    }

    public IndexView(MetadataStore store, ScheduledExecutorService timer, long maxChunks) {
        if (maxChunks < 1) {
            throw new IllegalArgumentException("maxChunks must be positive");
        }
        this.store = store;
        this.timer = timer;
        this.maxChunks = maxChunks;
    }

    /** A view holding at most a million chunks. */
    public IndexView(MetadataStore store, ScheduledExecutorService timer) {
        this(store, timer, 1_000_000);
    }

    /** Starts watching the index from now on; completes once the watch is set. Shards are read when asked for. */
    public CompletableFuture<Void> start() {
        return store.revision().thenAccept(revision -> {
            // Counted first: a reader that sees the count move reads everything anew, and one that sees it before
            // the watch is set reads everything then too (no watch stands), so none trusts a count the watch is not
            // behind yet. The watch tells of every change after the revision, read before either.
            watchStarts.incrementAndGet();
            watch = store.watchIndex(revision, this);
            LOG.info("index view watching from revision {}", revision);
        });
    }

    /** Makes sure the partition's shard is held (reading it when it is not), and marks it as used. */
    public CompletableFuture<Void> load(PartitionId id) {
        int shardId = store.shardOf(id);
        Shard shard = shards.get(shardId);
        if (shard == null) {
            Shard fresh = new Shard(shardId);
            shard = shards.putIfAbsent(shardId, fresh);
            if (shard == null) {
                shard = fresh;
                read(fresh); // after registering: from here on the watch applies its events
            }
        }
        shard.touch();
        return shard.loaded;
    }

    private void read(Shard shard) {
        int shardId = shard.id;
        shardReads.incrementAndGet();
        store.readIndex(shardId).whenComplete((snapshot, e) -> {
            if (e != null) {
                shards.remove(shardId, shard);
                shard.loaded.completeExceptionally(e);
                return;
            }
            loaded(shard, snapshot);
        });
    }

    private void loaded(Shard shard, IndexSnapshot snapshot) {
        Set<Long> goneMeanwhile;
        synchronized (shard) {
            goneMeanwhile = Set.copyOf(shard.removedWhileLoading);
        }
        // An entry the watch removed while the read was under way is not put back, even for a moment.
        snapshot.entries().stream().filter(entry -> !goneMeanwhile.contains(entry.sequence()))
                .forEach(entry -> apply(shard, entry));
        raiseLogStarts(shard, snapshot.logStarts());
        List<Long> removed;
        synchronized (shard) {
            removed = List.copyOf(shard.removedWhileLoading);
            shard.removedWhileLoading.clear();
            shard.loaded.complete(null);
        }
        removed.forEach(sequence -> remove(shard, sequence));
        wake(shard.partitionIds);
        evictBeyondBound(shard);
    }

    /** The metadata shard that holds the partition's index entries. */
    public int shardOf(PartitionId id) {
        return store.shardOf(id);
    }

    /** The partition's chunks as held now (empty when its shard is not held: call {@link #load} first). */
    public PartitionIndex partition(PartitionId id) {
        PartitionIndex index = partitions.get(id);
        return index != null ? index : new PartitionIndex();
    }

    /** The held WAL chunks stored in the object, in no particular order (segments' chunks are in their footers). */
    public Collection<ChunkRef> chunksOfObject(String objectKey) {
        Set<ChunkRef> chunks = chunksByObject.get(objectKey);
        return chunks == null ? List.of() : chunks;
    }

    /** Refs held now, across shards: WAL chunks and segments (a segment counts once). */
    public long heldChunks() {
        return heldChunks.get();
    }

    /** Partitions with a reader waiting on them now (long polls and streams at their end). */
    public int awaitedPartitions() {
        return waiters.size();
    }

    /** Whether a reader waits for the partition to grow now. */
    public boolean awaited(PartitionId id) {
        return waiters.containsKey(id);
    }

    /** Shards held now. */
    public int heldShards() {
        return shards.size();
    }

    /** Shard reads so far (first reads and reads again after eviction). */
    public long shardReads() {
        return shardReads.get();
    }

    /**
     * The partition's end as the store has it now (one read of the store, not this view's): what a reader ahead
     * of this view is checked against before it is told its offset is out of range.
     */
    public CompletableFuture<Long> committedEnd(PartitionId id) {
        return store.offsets(id).thenApply(io.strata.metadata.PartitionOffsets::nextOffset);
    }

    /** Who hears of every reader at a partition's end or waiting there (the node's {@code TailReaders}). */
    public void onReaderAtEnd(java.util.function.Consumer<PartitionId> listener) {
        this.readersAtEnd = listener;
    }

    /** A reader reached the partition's end (its read takes the last chunk there is) or waits there. */
    public void readerAtEnd(PartitionId id) {
        readersAtEnd.accept(id);
    }

    /**
     * Completes with true as soon as the partition grows past {@code offset} or may have (a commit to it was
     * seen: callers look again), or with false after {@code maxWait}. The partition's shard stays held
     * while anyone waits on it.
     */
    public CompletableFuture<Boolean> awaitBeyond(PartitionId id, long offset, Duration maxWait) {
        return awaitBeyond(id, offset, maxWait, PartitionIndex::endOffset);
    }

    /**
     * As {@link #awaitBeyond(PartitionId, long, Duration)}, for readers bounded by {@code bound} of the partition
     * rather than its end (read-committed readers: its last stable offset). Whoever moves the bound other than by
     * a commit wakes them ({@link #wakeReaders}).
     */
    public CompletableFuture<Boolean> awaitBeyond(PartitionId id, long offset, Duration maxWait,
                                                  java.util.function.ToLongFunction<PartitionIndex> bound) {
        readerAtEnd(id);
        CompletableFuture<Boolean> waiter = new CompletableFuture<>();
        // Added and removed under the map's lock of the partition, so a partition nobody waits on holds no entry
        // (partitions come and go with topics) and no waiter joins a list just taken out of the map.
        waiters.compute(id, (k, list) -> {
            CopyOnWriteArrayList<CompletableFuture<Boolean>> l = list == null ? new CopyOnWriteArrayList<>() : list;
            l.add(waiter);
            return l;
        });
        // Checked after registering, so a commit that lands in between is not missed.
        if (bound.applyAsLong(partition(id)) > offset || !shards.containsKey(store.shardOf(id))) {
            waiter.complete(true); // grown, or not held: the caller loads and looks again
        } else {
            var timeout = timer.schedule(() -> waiter.complete(false), maxWait.toMillis(), TimeUnit.MILLISECONDS);
            waiter.whenComplete((v, e) -> timeout.cancel(false));
        }
        waiter.whenComplete((v, e) -> waiters.computeIfPresent(id, (k, list) -> {
            list.remove(waiter);
            return list.isEmpty() ? null : list;
        }));
        return waiter;
    }

    /**
     * Who hears of every partition a commit (or a compaction) writes to, or whose log start moves, across the
     * cluster, held shard or not: on the watch's thread, so the listener must be quick.
     */
    public void onWritten(java.util.function.Consumer<PartitionId> listener) {
        writtenListeners.add(listener);
    }

    /**
     * How many times a watch was set (0: none yet). Everything written after the count last moved was told to the
     * {@link #onWritten} listeners; what was written before, or while the watch was lost, may not have been.
     */
    public long watchStarts() {
        return watchStarts.get();
    }

    /** Whether a watch stands now (none before the first is set, nor between one lost and the next). */
    public boolean watching() {
        return watch != null;
    }

    private void written(Collection<PartitionId> partitions) {
        for (java.util.function.Consumer<PartitionId> l : writtenListeners) {
            partitions.forEach(l);
        }
    }

    @Override
    public void onEntry(IndexEntry entry) {
        if (!writtenListeners.isEmpty()) {
            written(refsOf(entry).stream().map(IndexRef::partition).toList());
        }
        Shard shard = shards.get(entry.shard());
        if (shard == null) {
            return; // not held: a later read of the shard includes it
        }
        apply(shard, entry);
        Set<PartitionId> touched = new HashSet<>();
        refsOf(entry).forEach(c -> touched.add(c.partition()));
        wake(touched);
    }

    @Override
    public void onLogStarts(int shardId, Map<PartitionId, Long> logStarts) {
        written(logStarts.keySet());
        Shard shard = shards.get(shardId);
        if (shard != null) {
            raiseLogStarts(shard, logStarts);
            wake(logStarts.keySet()); // a reader waiting below the new start learns it is out of range
        }
    }

    /**
     * Log starts only grow, so applying them in any order is right: a snapshot's older starts never undo a
     * watch event's newer ones.
     */
    private void raiseLogStarts(Shard shard, Map<PartitionId, Long> logStarts) {
        if (shard.dropped) {
            return;
        }
        logStarts.forEach((pid, start) -> {
            shard.partitionIds.add(pid);
            live(pid).raiseLogStart(start);
        });
    }

    private static List<IndexRef> refsOf(IndexEntry entry) {
        return entry.isSegment() ? List.of(entry.segment()) : List.copyOf(entry.chunks());
    }

    @Override
    public void onRemoved(int shardId, long sequence) {
        Shard shard = shards.get(shardId);
        if (shard == null) {
            return;
        }
        synchronized (shard) {
            if (!shard.loaded.isDone()) {
                shard.removedWhileLoading.add(sequence);
            }
        }
        remove(shard, sequence);
    }

    @Override
    public void onReset(Throwable cause) {
        if (closed) {
            return;
        }
        LOG.warn("index watch lost ({}); dropping the held shards and watching again", cause.toString());
        closeWatch();
        List.copyOf(shards.values()).forEach(this::drop);
        wakeAll();
        timer.schedule(() -> start().exceptionally(e -> {
            onReset(e);
            return null;
        }), 200, TimeUnit.MILLISECONDS);
    }

    private void apply(Shard shard, IndexEntry entry) {
        List<IndexRef> refs = refsOf(entry);
        if (shard.dropped || shard.entries.putIfAbsent(entry.sequence(), refs) != null) {
            return;
        }
        List<io.strata.metadata.ProducerAppend> transactional = entry.appends().stream()
                .filter(io.strata.metadata.ProducerAppend::transactional).toList();
        if (!transactional.isEmpty()) {
            shard.transactional.put(entry.sequence(), transactional);
            for (io.strata.metadata.ProducerAppend a : transactional) {
                live(a.partition()).addTransactional(a,
                        entry.committedAtMs());
            }
        }
        for (IndexRef ref : refs) {
            shard.partitionIds.add(ref.partition());
            live(ref.partition()).add(entry.sequence(), ref);
            if (ref instanceof ChunkRef chunk) {
                chunksByObject.computeIfAbsent(chunk.objectKey(), k -> ConcurrentHashMap.newKeySet()).add(chunk);
            }
        }
        heldChunks.addAndGet(refs.size());
    }

    /** The partition's index, a fresh one in place of one whose shard is being dropped. */
    private PartitionIndex live(PartitionId pid) {
        return partitions.compute(pid, (k, p) -> p == null || p.detached() ? new PartitionIndex() : p);
    }

    private void remove(Shard shard, long sequence) {
        List<IndexRef> removed = shard.entries.remove(sequence);
        if (removed == null) {
            return;
        }
        List<io.strata.metadata.ProducerAppend> transactional = shard.transactional.remove(sequence);
        if (transactional != null) {
            for (io.strata.metadata.ProducerAppend a : transactional) {
                PartitionIndex p = partitions.get(a.partition());
                if (p != null) {
                    p.removeTransactional(a);
                }
            }
        }
        heldChunks.addAndGet(-removed.size());
        for (IndexRef ref : removed) {
            PartitionIndex p = partitions.get(ref.partition());
            if (p != null) {
                p.remove(ref);
            }
            if (ref instanceof ChunkRef c) {
                chunksByObject.computeIfPresent(c.objectKey(), (k, set) -> {
                    set.remove(c);
                    return set.isEmpty() ? null : set;
                });
            }
        }
    }

    /** Drops the least recently used shards until the bound holds, sparing {@code keep} and awaited ones. */
    private void evictBeyondBound(Shard keep) {
        if (heldChunks.get() <= maxChunks) {
            return;
        }
        Set<Integer> awaited = new HashSet<>();
        waiters.forEach((pid, list) -> {
            if (!list.isEmpty()) {
                awaited.add(store.shardOf(pid));
            }
        });
        List<Shard> candidates = shards.values().stream()
                .filter(s -> s != keep && s.loaded.isDone() && !awaited.contains(s.id))
                .sorted(Comparator.comparingLong(s -> s.lastUsed)).toList();
        for (Shard s : candidates) {
            if (heldChunks.get() <= maxChunks) {
                break;
            }
            drop(s);
        }
    }

    private void drop(Shard shard) {
        if (shards.get(shard.id) != shard) {
            return;
        }
        // Detached before the shard leaves the map: a read of it begun after that fills fresh indexes.
        shard.partitionIds.forEach(pid -> {
            PartitionIndex p = partitions.get(pid);
            if (p != null) {
                p.detach();
            }
        });
        if (!shards.remove(shard.id, shard)) {
            return;
        }
        shard.dropped = true;
        for (Long sequence : List.copyOf(shard.entries.keySet())) {
            remove(shard, sequence);
        }
        // Detached, each goes even if something was added meanwhile: the shard's next read starts afresh.
        shard.partitionIds.forEach(pid -> partitions.computeIfPresent(pid, (k, p) -> p.detached() ? null : p));
        LOG.debug("index shard {} dropped (least recently used)", shard.id);
    }

    /**
     * Wakes the readers waiting on the partitions (null: on every partition): something they wait for other than
     * commits moved.
     */
    public void wakeReaders(Collection<PartitionId> partitions) {
        if (partitions == null) {
            wakeAll();
        } else {
            wake(partitions);
        }
    }

    private void wake(Collection<PartitionId> touched) {
        for (PartitionId pid : touched) {
            var list = waiters.get(pid);
            if (list != null) {
                list.forEach(w -> w.complete(true));
            }
        }
    }

    private void wakeAll() {
        for (Map.Entry<PartitionId, CopyOnWriteArrayList<CompletableFuture<Boolean>>> e : waiters.entrySet()) {
            e.getValue().forEach(w -> w.complete(true));
        }
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
