package io.strata.metadata;

import io.strata.format.Sharding;
import io.strata.metadata.codec.MetadataCodec;
import io.strata.metadata.kv.CountingKvStore;
import io.strata.metadata.kv.KeyValue;
import io.strata.metadata.kv.KvEvent;
import io.strata.metadata.kv.KvGuard;
import io.strata.metadata.kv.KvLease;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvRange;
import io.strata.metadata.kv.KvStore;
import io.strata.metadata.kv.KvWatchListener;
import io.strata.metadata.kv.TxnResult;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Strata's metadata over any {@link KvStore}: the key layout of {@link KeyLayout}, the protobuf values of
 * {@link MetadataCodec} and the block commit protocol ({@link ShardCommitter}). Both the etcd and the embedded
 * adapter are this class over their own {@code KvStore}, so the protocol exists once.
 *
 * <p>Owns its {@code KvStore} and one thread, {@code strata-metadata-retry}, which only delays retries;
 * {@link #close()} stops both. Thread-safe.
 */
public final class KvMetadataStore implements MetadataStore {
    private static final Logger LOG = LoggerFactory.getLogger(KvMetadataStore.class);

    private final KvStore kv;
    private final KeyLayout keys;
    private final Clock clock;
    private final Duration retryBudget;
    private final ScheduledExecutorService retryTimer;
    private final ClusterInfo cluster;
    private final ShardCommitter committer;
    private final ShardLedgers ledgers;
    private final LiveTopics liveTopics;
    private final KvCompactionStore compaction;
    private final io.strata.metadata.group.KvGroupStore groups;
    private final io.strata.metadata.security.KvSecurityStore security;
    private final LongAdder topicConflicts = new LongAdder();

    private KvMetadataStore(KvStore kv, KeyLayout keys, Clock clock, Duration timeout, ClusterInfo cluster,
                            ScheduledExecutorService retryTimer) {
        this.kv = kv;
        this.keys = keys;
        this.clock = clock;
        this.retryBudget = timeout.multipliedBy(3);
        this.retryTimer = retryTimer;
        this.cluster = cluster;
        this.ledgers = new ShardLedgers(kv, keys, clock);
        this.liveTopics = new LiveTopics(kv, keys, ledgers::forgetDeletedTopics);
        this.committer = new ShardCommitter(kv, keys, clock, this::shardOf, this::delay, retryBudget, ledgers,
                liveTopics);
        this.compaction = new KvCompactionStore(kv, keys, clock, this::delay);
        this.groups = new io.strata.metadata.group.KvGroupStore(kv, keys, clock);
        this.security = new io.strata.metadata.security.KvSecurityStore(kv, keys);
    }

    /**
     * Opens the store, creating the cluster record with {@code shards} on first use. A cluster created
     * earlier keeps its shard count whatever {@code shards} says (the shard of a partition must never move).
     */
    public static KvMetadataStore open(KvStore store, String root, int shards, Clock clock, Duration timeout) {
        KvStore kv = new CountingKvStore(store); // failed requests, for the metrics and their alert
        KeyLayout keys = new KeyLayout(root);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-metadata-retry");
            t.setDaemon(true);
            return t;
        });
        try {
            ClusterInfo cluster = loadOrCreateCluster(kv, keys, shards, clock)
                    .get(timeout.toMillis() * 2, TimeUnit.MILLISECONDS);
            if (cluster.shards() != shards) {
                LOG.info("cluster {} keeps its {} metadata shards ({} configured)", cluster.clusterId(),
                        cluster.shards(), shards);
            }
            return new KvMetadataStore(kv, keys, clock, timeout, cluster, timer);
        } catch (Exception e) {
            timer.shutdownNow();
            kv.close();
            Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null
                    ? e.getCause() : e;
            throw cause instanceof MetadataException m ? m
                    : new MetadataException("cannot open the metadata store: " + cause, true, cause);
        }
    }

    private static CompletableFuture<ClusterInfo> loadOrCreateCluster(KvStore kv, KeyLayout keys, int shards,
                                                                      Clock clock) {
        return kv.get(keys.cluster()).thenCompose(found -> {
            if (found.isPresent()) {
                return CompletableFuture.completedFuture(
                        MetadataCodec.decodeCluster(keys.cluster(), found.get().value()));
            }
            ClusterInfo fresh = new ClusterInfo(UUID.randomUUID().toString(), shards, clock.millis());
            // Two nodes starting at once: one creates, the other reads what it created.
            return kv.txn(List.of(KvGuard.absent(keys.cluster())),
                            List.of(new KvOp.Put(keys.cluster(), MetadataCodec.encode(fresh))))
                    .thenCompose(r -> r.succeeded() ? CompletableFuture.completedFuture(fresh)
                            : loadOrCreateCluster(kv, keys, shards, clock));
        });
    }

    @Override
    public ClusterInfo cluster() {
        return cluster;
    }

    /**
     * A stable hash of (topic id, partition) onto the shards. Part of the stored format: changing it would
     * move partitions between shard heads, so it never changes.
     */
    @Override
    public int shardOf(PartitionId partition) {
        return Sharding.shardOf(partition.topicId(), partition.partition(), cluster.shards());
    }

    @Override
    public CompletableFuture<Topic> createTopic(TopicConfig config) {
        return retrying(() -> kv.getAll(List.of(keys.topicIds(), keys.topic(config.name()))).thenCompose(read -> {
            Map<String, KeyValue> found = byKey(read);
            if (found.containsKey(keys.topic(config.name()))) {
                return CompletableFuture.failedFuture(new TopicExistsException(config.name()));
            }
            KeyValue counter = found.get(keys.topicIds());
            long id = 1 + (counter == null ? 0 : MetadataCodec.decodeCounter(counter.key(), counter.value()));
            Topic topic = new Topic(config.name(), id, config.partitions(), config.retentionMs(),
                    config.retentionBytes(), clock.millis(), config.cleanupPolicy(), config.deleteRetentionMs());
            return kv.txn(List.of(new KvGuard(keys.topicIds(), counter == null ? 0 : counter.modRevision()),
                                    KvGuard.absent(keys.topic(config.name()))),
                            List.of(new KvOp.Put(keys.topicIds(), MetadataCodec.encodeCounter(id)),
                                    new KvOp.Put(keys.topic(config.name()), MetadataCodec.encode(topic))))
                    .thenApply(r -> r.succeeded() ? Optional.of(topic) : Optional.<Topic>empty());
        }));
    }

    @Override
    public CompletableFuture<Optional<Topic>> getTopic(String name) {
        return kv.get(keys.topic(name)).thenApply(kv -> kv.map(v -> MetadataCodec.decodeTopic(v.key(), v.value())));
    }

    @Override
    public CompletableFuture<List<Topic>> listTopics() {
        return kv.range(keys.topicsPrefix()).thenApply(range -> range.entries().stream()
                .map(v -> MetadataCodec.decodeTopic(v.key(), v.value())).toList());
    }

    @Override
    public CompletableFuture<Long> lastTopicId() {
        String key = keys.topicIds();
        return kv.get(key).thenApply(found -> found.map(v -> MetadataCodec.decodeCounter(key, v.value())).orElse(0L));
    }

    @Override
    public CompletableFuture<Optional<Topic>> alterTopic(String name, TopicChange change) {
        String key = keys.topic(name);
        return retrying(() -> kv.get(key).thenCompose(found -> {
            if (found.isEmpty()) {
                return CompletableFuture.completedFuture(Optional.of(Optional.<Topic>empty()));
            }
            Topic altered = MetadataCodec.decodeTopic(key, found.get().value()).with(change);
            return kv.txn(List.of(new KvGuard(key, found.get().modRevision())),
                            List.of(new KvOp.Put(key, MetadataCodec.encode(altered))))
                    .thenApply(r -> r.succeeded() ? Optional.of(Optional.of(altered)) : Optional.<Optional<Topic>>empty());
        }));
    }

    @Override
    public CompletableFuture<Boolean> deleteTopic(String name) {
        String key = keys.topic(name);
        return retrying(() -> kv.get(key).thenCompose(found -> {
            if (found.isEmpty()) {
                return CompletableFuture.completedFuture(Optional.of(false));
            }
            long id = MetadataCodec.decodeTopic(key, found.get().value()).topicId();
            // Rewriting topic-deletions fails the guard of every commit staged before the deletion.
            return kv.txn(List.of(new KvGuard(key, found.get().modRevision())), List.of(new KvOp.Delete(key),
                            new KvOp.Put(keys.topicDeletions(), MetadataCodec.encodeCounter(id))))
                    .thenApply(r -> r.succeeded() ? Optional.of(true) : Optional.<Boolean>empty());
        }));
    }

    @Override
    public boolean holdsLedger(int shard) {
        return ledgers.applied(shard) >= 0;
    }

    @Override
    public CompletableFuture<PartitionOffsets> offsets(PartitionId partition) {
        return offsets(List.of(partition)).thenApply(list -> list.get(0));
    }

    /**
     * Next offsets come from the shards' ledgers, brought up to the heads as read (the heads hold only the
     * shards' sequences); log starts from the shards' compaction states (retention writes them), read with
     * the heads at one revision. A partition of a deleted topic has neither.
     */
    @Override
    public CompletableFuture<List<PartitionOffsets>> offsets(List<PartitionId> partitions) {
        java.util.TreeMap<Integer, List<PartitionId>> byShard = new java.util.TreeMap<>();
        partitions.forEach(p -> byShard.computeIfAbsent(shardOf(p), s -> new ArrayList<>()).add(p));
        Map<PartitionId, Long> next = new java.util.concurrent.ConcurrentHashMap<>();
        Map<PartitionId, Long> start = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.Set<Long> live = java.util.concurrent.ConcurrentHashMap.newKeySet();
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        List<Integer> shards = new ArrayList<>(byShard.keySet());
        int perRead = Math.max(1, (kv.maxTxnOps() - 1) / 3); // a shard's head, state and newer entries
        java.util.Set<Long> topicIds = new java.util.HashSet<>();
        partitions.forEach(p -> topicIds.add(p.topicId()));
        for (int from = 0; from < shards.size(); from += perRead) {
            List<Integer> groupShards = shards.subList(from, Math.min(shards.size(), from + perRead));
            List<String> group = new ArrayList<>();
            for (int shard : groupShards) {
                group.add(keys.head(shard));
                group.add(keys.indexState(shard));
            }
            group.add(keys.topicDeletions());
            reads.add(kv.getAll(group, ledgers.catchUpRanges(groupShards, groupShards.size())).thenCompose(read -> {
                Map<String, KeyValue> found = byKey(read);
                ledgers.foldRead(read.entries());
                long deletions = found.containsKey(keys.topicDeletions())
                        ? found.get(keys.topicDeletions()).modRevision() : 0;
                List<CompletableFuture<?>> steps = new ArrayList<>();
                steps.add(liveTopics.liveAmong(deletions, topicIds).thenAccept(live::addAll));
                for (int shard : groupShards) {
                    KeyValue state = found.get(keys.indexState(shard));
                    if (state != null) {
                        start.putAll(MetadataCodec.decodeShardState(state.key(), state.value()).logStarts());
                    }
                    long sequence = ShardLedgers.headSequence(found.get(keys.head(shard)));
                    steps.add(ledgers.upTo(shard, sequence, false).thenAccept(h -> {
                        synchronized (h) {
                            byShard.get(shard).forEach(p -> next.put(p, h.ledger.nextOffset(p)));
                        }
                    }));
                }
                return CompletableFuture.allOf(steps.toArray(CompletableFuture[]::new));
            }));
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> partitions.stream()
                .map(p -> {
                    if (!live.contains(p.topicId())) {
                        return new PartitionOffsets(p, 0, 0);
                    }
                    long end = next.getOrDefault(p, 0L);
                    return new PartitionOffsets(p, Math.min(end, start.getOrDefault(p, 0L)), end);
                }).toList());
    }

    @Override
    public CompletableFuture<List<ChunkCommit>> commitBlock(BlockCommit commit) {
        return committer.commit(commit);
    }

    @Override
    public CompletableFuture<List<List<ChunkCommit>>> commitBlocks(List<BlockCommit> commits) {
        return committer.commitAll(commits);
    }

    @Override
    public CompletableFuture<Long> allocateProducerId() {
        String key = keys.producerIds();
        return retrying(() -> kv.get(key).thenCompose(found -> {
            long id = 1 + found.map(v -> MetadataCodec.decodeCounter(key, v.value())).orElse(0L);
            return kv.txn(List.of(new KvGuard(key, found.map(KeyValue::modRevision).orElse(0L))),
                            List.of(new KvOp.Put(key, MetadataCodec.encodeCounter(id))))
                    .thenApply(r -> r.succeeded() ? Optional.of(id) : Optional.<Long>empty());
        }));
    }

    @Override
    public Map<PartitionId, CompletableFuture<List<ProducerState>>> producers(Collection<PartitionId> partitions) {
        Map<Integer, List<PartitionId>> byShard = new TreeMap<>();
        partitions.forEach(p -> byShard.computeIfAbsent(shardOf(p), s -> new ArrayList<>()).add(p));
        Map<PartitionId, CompletableFuture<List<ProducerState>>> out = new java.util.HashMap<>();
        byShard.forEach((shard, inShard) -> {
            CompletableFuture<Map<PartitionId, List<ProducerState>>> read = ledgers.producers(shard, inShard);
            inShard.forEach(p -> out.put(p, read.thenApply(states -> states.getOrDefault(p, List.of()))));
        });
        return out;
    }

    @Override
    public CompletableFuture<Long> lastProducerId() {
        String key = keys.producerIds();
        return kv.get(key).thenApply(found -> found.map(v -> MetadataCodec.decodeCounter(key, v.value())).orElse(0L));
    }

    @Override
    public void useProducerSnapshots(ProducerSnapshotReader reader, Duration stateExpiry) {
        ledgers.useProducerSnapshots(reader, stateExpiry);
    }

    @Override
    public MetadataStats stats() {
        return new MetadataStats(committer.transactions(), committer.conflicts() + topicConflicts.sum(),
                committer.keysWritten(), committer.bytesWritten(), ledgers.producerStates(),
                kv instanceof CountingKvStore counting ? counting.failures() : 0, ledgers.rebuilds());
    }

    @Override
    public CompletableFuture<Long> sizeBytes() {
        return kv.sizeBytes();
    }

    @Override
    public CompletableFuture<IndexSnapshot> readIndex() {
        return readIndexUnder(keys.indexPrefix());
    }

    @Override
    public CompletableFuture<IndexSnapshot> readIndex(int shard) {
        return readIndexUnder(keys.indexShardPrefix(shard));
    }

    @Override
    public CompletableFuture<Long> revision() {
        return kv.range(keys.cluster()).thenApply(KvRange::revision);
    }

    private CompletableFuture<IndexSnapshot> readIndexUnder(String prefix) {
        return kv.range(prefix).thenApply(range -> {
            List<IndexEntry> entries = new ArrayList<>(range.entries().size());
            Map<PartitionId, Long> logStarts = new java.util.HashMap<>();
            for (KeyValue v : range.entries()) {
                if (keys.parseIndexState(v.key()) >= 0) {
                    logStarts.putAll(MetadataCodec.decodeShardState(v.key(), v.value()).logStarts());
                    continue;
                }
                long[] id = keys.parseIndexEntry(v.key());
                if (id != null) {
                    entries.add(MetadataCodec.decodeIndexEntry(v.key(), (int) id[0], id[1], v.value()));
                }
            }
            return new IndexSnapshot(entries, logStarts, range.revision());
        });
    }

    @Override
    public io.strata.metadata.group.GroupStore groups() {
        return groups;
    }

    @Override
    public io.strata.metadata.security.SecurityStore security() {
        return security;
    }

    @Override
    public io.strata.metadata.delay.DelayStateStore delays() {
        return new io.strata.metadata.delay.KvDelayStateStore(kv, keys);
    }

    @Override
    public io.strata.metadata.half.HalfStore halves() {
        return new io.strata.metadata.half.KvHalfStore(kv, keys);
    }

    @Override
    public io.strata.metadata.txn.TransactionStore transactions() {
        return new io.strata.metadata.txn.KvTransactionStore(kv, keys);
    }

    @Override
    public io.strata.metadata.share.ShareStateStore shares() {
        return new io.strata.metadata.share.KvShareStateStore(kv, keys);
    }

    @Override
    public io.strata.metadata.group.GroupSettingsStore groupSettings() {
        return new io.strata.metadata.group.KvGroupSettingsStore(kv, keys);
    }

    @Override
    public io.strata.metadata.security.QuotaUsageStore quotaUsage() {
        return new io.strata.metadata.security.KvQuotaUsageStore(kv, keys);
    }

    @Override
    public CompactionStore compaction() {
        return compaction;
    }

    @Override
    public AutoCloseable watchIndex(long afterRevision, IndexListener listener) {
        return kv.watch(keys.indexPrefix(), afterRevision, new KvWatchListener() {
            @Override
            public void onEvents(List<KvEvent> events) {
                for (KvEvent e : events) {
                    int stateOf = keys.parseIndexState(e.key());
                    if (stateOf >= 0) {
                        listener.onLogStarts(stateOf, e.type() == KvEvent.Type.PUT
                                ? MetadataCodec.decodeShardState(e.key(), e.value()).logStarts() : Map.of());
                        continue;
                    }
                    long[] id = keys.parseIndexEntry(e.key());
                    if (id == null) {
                        continue;
                    }
                    if (e.type() == KvEvent.Type.PUT) {
                        listener.onEntry(MetadataCodec.decodeIndexEntry(e.key(), (int) id[0], id[1], e.value()));
                    } else {
                        listener.onRemoved((int) id[0], id[1]);
                    }
                }
            }

            @Override
            public void onBroken(Throwable cause) {
                listener.onReset(cause);
            }
        });
    }

    @Override
    public CompletableFuture<AutoCloseable> registerNode(NodeInfo node, Duration ttl) {
        NodeRegistration registration = new NodeRegistration(node, ttl);
        return registration.register().thenApply(v -> (AutoCloseable) registration);
    }

    /**
     * A node's key under a lease. When the lease is lost (the node paused, or was cut off from the store,
     * longer than the TTL, and its key was deleted), the node registers again under a new lease, trying
     * every second until it is back or closed: other nodes and clients find it again, instead of a node
     * serving on while the cluster believes it gone.
     */
    private final class NodeRegistration implements AutoCloseable {
        private final NodeInfo node;
        private final Duration ttl;
        private KvLease lease;
        private boolean closed;
        /** The registration under way (its key may be put before its lease is known here); null: none. */
        private CompletableFuture<Void> registering;

        NodeRegistration(NodeInfo node, Duration ttl) {
            this.node = node;
            this.ttl = ttl;
        }

        CompletableFuture<Void> register() {
            CompletableFuture<Void> attempt = registerOnce();
            synchronized (this) {
                registering = attempt;
            }
            return attempt;
        }

        private CompletableFuture<Void> registerOnce() {
            return kv.grantLease(ttl).thenCompose(granted -> kv.txn(List.of(),
                            List.of(new KvOp.Put(keys.node(node.nodeId()), MetadataCodec.encode(node), granted.id())))
                    .handle((TxnResult r, Throwable failure) -> {
                        if (failure != null) {
                            granted.close();
                            throw failure instanceof RuntimeException re ? re : new MetadataException(
                                    "registering node " + node.nodeId(), true, failure);
                        }
                        synchronized (this) {
                            if (closed) {
                                granted.close();
                                return null;
                            }
                            lease = granted;
                        }
                        granted.lost().thenRun(this::lost);
                        return null;
                    }));
        }

        private void lost() {
            synchronized (this) {
                if (closed) {
                    return;
                }
            }
            LOG.warn("the registration lease of node {} was lost (paused or cut off from the metadata store for "
                    + "longer than {}): registering again", node.nodeId(), ttl);
            again();
        }

        private void again() {
            register().whenComplete((v, failure) -> {
                if (failure == null) {
                    LOG.info("node {} is registered again", node.nodeId());
                    return;
                }
                synchronized (this) {
                    if (closed) {
                        return;
                    }
                }
                LOG.warn("registering node {} again failed, trying again in a second: {}", node.nodeId(),
                        failure.toString());
                try {
                    retryTimer.schedule(this::again, 1, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // the store is closing
                }
            });
        }

        @Override
        public void close() {
            KvLease current;
            CompletableFuture<Void> underWay;
            synchronized (this) {
                closed = true;
                current = lease;
                underWay = registering;
            }
            if (current != null) {
                current.close();
            }
            if (underWay != null) {
                // A registration whose key is put but whose lease is not known here yet revokes it on seeing this
                // closed: waited for, so that the node is gone from the listing once this returns.
                try {
                    underWay.get(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception failedOrSlow) {
                    // failed: nothing was put; slow: its lease lapses within the TTL
                }
            }
        }
    }

    @Override
    public CompletableFuture<List<NodeInfo>> listNodes() {
        return kv.range(keys.nodesPrefix()).thenApply(range -> range.entries().stream()
                .map(v -> MetadataCodec.decodeNode(v.key(), v.value())).toList());
    }

    @Override
    public void close() {
        retryTimer.shutdownNow();
        kv.close();
    }

    /**
     * Runs {@code attempt} until it answers a value; an empty answer means a guard failed (another writer
     * came first), and the attempt is made again after a short jittered pause, within the retry budget.
     */
    private <T> CompletableFuture<T> retrying(Supplier<CompletableFuture<Optional<T>>> attempt) {
        long deadline = System.nanoTime() + retryBudget.toNanos();
        return retrying(attempt, deadline, 0);
    }

    private <T> CompletableFuture<T> retrying(Supplier<CompletableFuture<Optional<T>>> attempt, long deadline,
                                              int tries) {
        return attempt.get().thenCompose(answer -> {
            if (answer.isPresent()) {
                return CompletableFuture.completedFuture(answer.get());
            }
            topicConflicts.increment();
            if (System.nanoTime() > deadline) {
                return CompletableFuture.failedFuture(new MetadataException(
                        "gave up after " + (tries + 1) + " conflicting attempts", true));
            }
            return delay(tries).thenCompose(v -> retrying(attempt, deadline, tries + 1));
        });
    }

    /** A jittered, growing pause: 1..2^tries ms, at most 50 ms. */
    private CompletableFuture<Void> delay(int tries) {
        long maxMs = Math.min(50, 1L << Math.min(tries, 6));
        long ms = 1 + ThreadLocalRandom.current().nextLong(maxMs);
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            retryTimer.schedule(() -> done.complete(null), ms, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.completeExceptionally(new MetadataException("metadata store closed", false));
        }
        return done;
    }

    static Map<String, KeyValue> byKey(KvRange range) {
        Map<String, KeyValue> map = new java.util.HashMap<>();
        range.entries().forEach(v -> map.put(v.key(), v));
        return map;
    }
}
