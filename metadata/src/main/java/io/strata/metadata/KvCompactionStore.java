package io.strata.metadata;

import io.strata.metadata.codec.MetadataCodec;
import io.strata.metadata.codec.RevisionSampleValue;
import io.strata.metadata.kv.KeyValue;
import io.strata.metadata.kv.KvGuard;
import io.strata.metadata.kv.KvLease;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvRange;
import io.strata.metadata.kv.KvStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;

/**
 * {@link CompactionStore} over a {@link KvStore}, with the key layout and codecs of {@link KvMetadataStore}
 * (which makes it). A swap is one transaction: puts of the new entries and the state, then deletes of the
 * replaced entries (in that order, so a watcher sees the new chunks before the old ones go), guarded by the
 * lock, the state and every replaced entry's mod revision, and by the absence of a garbage marker for each
 * new object. A swap whose answer was lost is resolved by reading the state: every swap advances its next
 * sequence, so finding the new one means it was applied.
 *
 * <p>Thread-safe; holds no state. Futures complete on the store's threads.
 */
final class KvCompactionStore implements CompactionStore {
    private final KvStore kv;
    private final KeyLayout keys;
    private final Clock clock;
    private final IntFunction<CompletableFuture<Void>> backoff;
    /** Swaps of one shard come seconds apart: a raise that keeps losing to them says something is wrong. */
    private static final int RAISE_ATTEMPTS = 20;

    KvCompactionStore(KvStore kv, KeyLayout keys, Clock clock, IntFunction<CompletableFuture<Void>> backoff) {
        this.kv = kv;
        this.keys = keys;
        this.clock = clock;
        this.backoff = backoff;
    }

    @Override
    public CompletableFuture<ShardSnapshot> readShard(int shard) {
        return kv.range(keys.indexShardPrefix(shard)).thenApply(range -> {
            List<IndexEntry> entries = new ArrayList<>();
            Map<Long, Long> revisions = new HashMap<>();
            ShardState state = ShardState.INITIAL;
            long stateRevision = 0;
            for (KeyValue v : range.entries()) {
                if (keys.parseIndexState(v.key()) == shard) {
                    state = MetadataCodec.decodeShardState(v.key(), v.value());
                    stateRevision = v.modRevision();
                    continue;
                }
                long[] id = keys.parseIndexEntry(v.key());
                if (id != null && id[0] == shard) {
                    entries.add(MetadataCodec.decodeIndexEntry(v.key(), shard, id[1], v.value()));
                    revisions.put(id[1], v.modRevision());
                }
            }
            return new ShardSnapshot(shard, entries, revisions, state, stateRevision, range.revision());
        });
    }

    @Override
    public CompletableFuture<SwapOutcome> swap(ShardSwap swap) {
        int shard = swap.shard();
        List<KvGuard> guards = new ArrayList<>();
        guards.add(new KvGuard(swap.lock().key(), swap.lock().modRevision()));
        guards.add(new KvGuard(keys.indexState(shard), swap.stateModRevision()));
        swap.replaced().forEach((sequence, revision) -> guards.add(new KvGuard(keys.indexEntry(shard, sequence), revision)));
        swap.newObjects().forEach(object -> guards.add(KvGuard.absent(keys.gcMarker(object))));
        List<KvOp> ops = new ArrayList<>();
        for (IndexEntry e : swap.added()) {
            ops.add(new KvOp.Put(keys.indexEntry(shard, e.sequence()), MetadataCodec.encode(e)));
        }
        ops.add(new KvOp.Put(keys.indexState(shard), MetadataCodec.encode(swap.newState())));
        swap.replaced().keySet().stream().sorted()
                .forEach(sequence -> ops.add(new KvOp.Delete(keys.indexEntry(shard, sequence))));
        if (guards.size() > kv.maxTxnOps() || ops.size() > kv.maxTxnOps()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("swap of shard " + shard + " has "
                    + guards.size() + " guards and " + ops.size() + " ops, over " + kv.maxTxnOps()));
        }
        return kv.txn(guards, ops).handle((result, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(result.succeeded()
                        ? (SwapOutcome) new SwapOutcome.Applied(result.revision())
                        : new SwapOutcome.Conflict("the lock, the shard's state or a replaced entry moved, or an "
                        + "object was condemned"));
            }
            // The answer was lost: the state's next sequence says whether this swap was applied.
            return kv.get(keys.indexState(shard)).thenApply(found -> {
                if (found.isPresent() && MetadataCodec.decodeShardState(found.get().key(), found.get().value())
                        .nextSequence() == swap.newState().nextSequence()) {
                    return (SwapOutcome) new SwapOutcome.Applied(found.get().modRevision());
                }
                return new SwapOutcome.Conflict("the transaction failed (" + failure.getMessage()
                        + ") and was not applied");
            });
        }).thenCompose(f -> f);
    }

    @Override
    public CompletableFuture<Map<PartitionId, Long>> raiseLogStarts(int shard, Map<PartitionId, Long> starts) {
        return raiseLogStarts(shard, Map.copyOf(starts), 0);
    }

    private CompletableFuture<Map<PartitionId, Long>> raiseLogStarts(int shard, Map<PartitionId, Long> starts,
                                                                     int tries) {
        String key = keys.indexState(shard);
        return kv.get(key).thenCompose(found -> {
            ShardState state = found.map(v -> MetadataCodec.decodeShardState(v.key(), v.value()))
                    .orElse(ShardState.INITIAL);
            Map<PartitionId, Long> raised = new HashMap<>(state.logStarts());
            starts.forEach((partition, start) -> {
                if (start > state.logStart(partition)) { // else nothing to write: a write fails swaps in flight
                    raised.put(partition, start);
                }
            });
            Map<PartitionId, Long> answer = new HashMap<>();
            starts.keySet().forEach(partition -> answer.put(partition, raised.getOrDefault(partition, 0L)));
            if (raised.equals(state.logStarts())) {
                return CompletableFuture.completedFuture(Map.copyOf(answer));
            }
            ShardState next = new ShardState(state.nextSequence(), raised, state.cleanings(), state.producers());
            KvGuard guard = found.isPresent() ? new KvGuard(key, found.get().modRevision()) : KvGuard.absent(key);
            return kv.txn(List.of(guard), List.of(new KvOp.Put(key, MetadataCodec.encode(next)))).thenCompose(r -> {
                if (r.succeeded()) {
                    return CompletableFuture.completedFuture(Map.copyOf(answer));
                }
                if (tries >= RAISE_ATTEMPTS) {
                    return CompletableFuture.failedFuture(new MetadataException("shard " + shard
                            + "'s state kept moving: gave up raising log starts after " + (tries + 1) + " attempts", true));
                }
                return backoff.apply(tries).thenCompose(v -> raiseLogStarts(shard, starts, tries + 1));
            });
        });
    }

    @Override
    public CompletableFuture<WorkerSession> openSession(String owner, Duration ttl) {
        return kv.grantLease(ttl).thenApply(lease -> new KvWorkerSession(owner, lease));
    }

    private final class KvWorkerSession implements WorkerSession {
        private final String owner;
        private final KvLease lease;

        KvWorkerSession(String owner, KvLease lease) {
            this.owner = owner;
            this.lease = lease;
        }

        @Override
        public String owner() {
            return owner;
        }

        @Override
        public CompletableFuture<Optional<WorkLock>> tryLock(String name) {
            String key = keys.lock(name);
            return kv.txn(List.of(KvGuard.absent(key)),
                            List.of(new KvOp.Put(key, MetadataCodec.encodeLock(owner, clock.millis()), lease.id())))
                    .thenCompose(r -> r.succeeded()
                            ? CompletableFuture.completedFuture(Optional.of(new WorkLock(name, key, r.revision())))
                            : kv.get(key).thenApply(held -> held.filter(v -> v.lease() == lease.id())
                                    .map(v -> new WorkLock(name, key, v.modRevision()))));
        }

        @Override
        public CompletableFuture<Void> unlock(WorkLock lock) {
            return kv.txn(List.of(new KvGuard(lock.key(), lock.modRevision())), List.of(new KvOp.Delete(lock.key())))
                    .thenApply(r -> null);
        }

        @Override
        public CompletableFuture<Void> lost() {
            return lease.lost();
        }

        @Override
        public void close() {
            lease.close();
        }
    }

    @Override
    public CompletableFuture<Map<String, GcMarker>> readMarkers() {
        String prefix = keys.gcPrefix();
        return kv.range(prefix).thenApply(range -> {
            Map<String, GcMarker> markers = new HashMap<>();
            for (KeyValue v : range.entries()) {
                String objectKey = v.key().substring(prefix.length());
                markers.put(objectKey, MetadataCodec.decodeGcMarker(v.key(), objectKey, v.value()));
            }
            return markers;
        });
    }

    @Override
    public CompletableFuture<Void> putMarkers(Collection<GcMarker> markers, WorkLock lock) {
        return inBatches(markers.stream().<KvOp>map(m -> new KvOp.Put(keys.gcMarker(m.objectKey()),
                MetadataCodec.encode(m))).toList(), lock);
    }

    @Override
    public CompletableFuture<Void> deleteMarkers(Collection<String> objectKeys, WorkLock lock) {
        // Each removal rewrites gc-markers-dropped in its transaction: a commit that read these markers absent
        // before they were written fails its guard, and reads again (ShardCommitter).
        return inBatches(objectKeys.stream().<KvOp>map(k -> new KvOp.Delete(keys.gcMarker(k))).toList(), lock,
                new KvOp.Put(keys.gcMarkersDropped(), new byte[0]));
    }

    /** Applies the ops in transactions of at most the store's op limit, each guarded by the lock. */
    private CompletableFuture<Void> inBatches(List<KvOp> ops, WorkLock lock) {
        return inBatches(ops, lock, null);
    }

    /** As {@link #inBatches(List, WorkLock)}, each transaction also applying {@code withEach} (null: none). */
    private CompletableFuture<Void> inBatches(List<KvOp> ops, WorkLock lock, KvOp withEach) {
        int per = Math.max(1, kv.maxTxnOps() - 1 - (withEach == null ? 0 : 1));
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (int from = 0; from < ops.size(); from += per) {
            List<KvOp> batch = new java.util.ArrayList<>(ops.subList(from, Math.min(ops.size(), from + per)));
            if (withEach != null) {
                batch.add(withEach);
            }
            chain = chain.thenCompose(v -> kv.txn(List.of(new KvGuard(lock.key(), lock.modRevision())), batch))
                    .thenCompose(r -> r.succeeded() ? CompletableFuture.<Void>completedFuture(null)
                            : CompletableFuture.failedFuture(new MetadataException("lock " + lock.name()
                            + " was lost", true)));
        }
        return chain;
    }

    @Override
    public CompletableFuture<Void> recordPass(CompactionPass pass, Duration forgetAfter) {
        String own = keys.compactionPass(pass.owner());
        String prefix = keys.compactionPassPrefix();
        return kv.txn(List.of(), List.of(new KvOp.Put(own, MetadataCodec.encode(pass))))
                .thenCompose(written -> kv.range(prefix))
                .thenCompose(range -> {
                    long oldest = clock.millis() - forgetAfter.toMillis();
                    List<KvGuard> unchanged = new ArrayList<>();
                    List<KvOp> stale = new ArrayList<>();
                    for (KeyValue v : range.entries()) {
                        if (stale.size() >= kv.maxTxnOps()) {
                            break;
                        }
                        CompactionPass p = decodePass(prefix, v);
                        if (p == null || p.finishedAtMs() < oldest) { // unreadable, or a worker long gone
                            // Only as read: a worker that wrote a new pass meanwhile keeps it.
                            unchanged.add(new KvGuard(v.key(), v.modRevision()));
                            stale.add(new KvOp.Delete(v.key()));
                        }
                    }
                    return stale.isEmpty() ? CompletableFuture.completedFuture(null)
                            : kv.txn(unchanged, stale).thenApply(r -> null);
                });
    }

    /** A pass as stored, or null for a value that does not decode (never fails the reader). */
    private static CompactionPass decodePass(String prefix, KeyValue v) {
        try {
            return MetadataCodec.decodeCompactionPass(v.key(), v.key().substring(prefix.length()), v.value());
        } catch (RuntimeException e) {
            return null;
        }
    }

    @Override
    public CompletableFuture<List<CompactionPass>> readPasses() {
        String prefix = keys.compactionPassPrefix();
        return kv.range(prefix).thenApply(range -> range.entries().stream().map(v -> decodePass(prefix, v))
                .filter(java.util.Objects::nonNull)
                .sorted(java.util.Comparator.comparingLong(CompactionPass::finishedAtMs).reversed()).toList());
    }

    @Override
    public CompletableFuture<Void> recordSizes(ShardSizes sizes, WorkLock lock) {
        return inBatches(List.of(new KvOp.Put(keys.shardSizes(sizes.shard()), MetadataCodec.encode(sizes))), lock);
    }

    @Override
    public CompletableFuture<List<ShardSizes>> readSizes() {
        return kv.range(keys.shardSizesPrefix()).thenApply(this::sizes);
    }

    @Override
    public CompletableFuture<List<ShardSizes>> readSizes(Collection<Integer> shards) {
        java.util.Set<Integer> wanted = new java.util.TreeSet<>(shards);
        if (wanted.size() > kv.maxTxnOps()) {
            return readSizes().thenApply(all -> all.stream().filter(s -> wanted.contains(s.shard())).toList());
        }
        return kv.getAll(wanted.stream().map(keys::shardSizes).toList()).thenApply(this::sizes);
    }

    private List<ShardSizes> sizes(KvRange range) {
        String prefix = keys.shardSizesPrefix();
        List<ShardSizes> sizes = new ArrayList<>();
        for (KeyValue v : range.entries()) {
            try {
                int shard = Integer.parseInt(v.key().substring(prefix.length()));
                sizes.add(MetadataCodec.decodeShardSizes(v.key(), shard, v.value()));
            } catch (RuntimeException e) {
                // Figures for a page, not data: one unreadable shard leaves its partitions unmeasured.
            }
        }
        return sizes;
    }

    @Override
    public CompletableFuture<Long> compactHistory(Duration keep, WorkLock lock) {
        String key = keys.historySample();
        return kv.getAll(List.of(key, keys.cluster())).thenCompose((KvRange read) -> {
            long now = clock.millis();
            KeyValue sample = KvMetadataStore.byKey(read).get(key);
            KvGuard held = new KvGuard(lock.key(), lock.modRevision());
            KvOp.Put fresh = new KvOp.Put(key, MetadataCodec.encodeRevisionSample(read.revision(), now));
            if (sample == null) {
                return kv.txn(List.of(held, KvGuard.absent(key)), List.of(fresh)).thenApply(r -> 0L);
            }
            RevisionSampleValue value = MetadataCodec.decodeRevisionSample(key, sample.value());
            if (now - value.getAtMs() < keep.toMillis()) {
                return CompletableFuture.completedFuture(0L);
            }
            return kv.compact(value.getRevision()).thenCompose(v -> kv.txn(
                            List.of(held, new KvGuard(key, sample.modRevision())), List.of(fresh)))
                    .thenApply(r -> value.getRevision());
        });
    }

    @Override
    public int maxTxnOps() {
        return kv.maxTxnOps();
    }

    @Override
    public int maxTxnBytes() {
        return kv.maxTxnBytes();
    }
}
