package io.strata.metadata;

import io.strata.metadata.codec.MetadataCodec;
import io.strata.metadata.kv.KeyRange;
import io.strata.metadata.kv.KeyValue;
import io.strata.metadata.kv.KvStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link ShardLedger}s of a metadata store, brought up to the heads commits read. Catching up reads the
 * commit entries after the ledger's sequence (one range read, usually a few entries: those other nodes
 * committed since); a ledger never built, or one whose next entries compaction merged away meanwhile, is
 * built from the whole shard (one range read) and, when commits need producers, the producer snapshot the
 * shard's state references (one object read).
 *
 * <p>Thread-safe: each ledger is guarded by its {@link Holder}'s monitor.
 */
final class ShardLedgers {
    private static final int MAX_REBUILDS = 3;
    /**
     * Entries past a ledger's sequence read with the heads: what other nodes commit between two commits, a few,
     * or as many as one commit of blocks that waited behind a slow PUT writes (the ingest node's at most 16).
     */
    private static final int CATCH_UP_ENTRIES = 16;

    /** One shard's ledger, null until first built; callers synchronise on the holder to use it. */
    static final class Holder {
        final int shard;
        ShardLedger ledger;
        /** The rebuild under way, shared by everyone who needs one meanwhile (a cold start's first commits). */
        private CompletableFuture<ShardLedger> rebuilding;
        private boolean rebuildingWithProducers;

        Holder(int shard) {
            this.shard = shard;
        }
    }

    private final KvStore kv;
    private final KeyLayout keys;
    private final Clock clock;
    private final ConcurrentHashMap<Integer, Holder> holders = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.LongAdder rebuilds = new java.util.concurrent.atomic.LongAdder();
    private volatile ProducerSnapshotReader snapshots;
    private volatile long expiryMs = Duration.ofDays(1).toMillis();

    /** Ledgers read whole so far (first uses, and ledgers too far behind). */
    long rebuilds() {
        return rebuilds.sum();
    }

    ShardLedgers(KvStore kv, KeyLayout keys, Clock clock) {
        this.kv = kv;
        this.keys = keys;
        this.clock = clock;
    }

    void useProducerSnapshots(ProducerSnapshotReader reader, Duration expiry) {
        this.snapshots = reader;
        this.expiryMs = expiry.toMillis();
    }

    /**
     * The shard's ledger at {@code sequence} or beyond (beyond when commits of this store moved it further
     * meanwhile), with its producers loaded if {@code withProducers}.
     */
    CompletableFuture<Holder> upTo(int shard, long sequence, boolean withProducers) {
        return upTo(holders.computeIfAbsent(shard, Holder::new), sequence, withProducers, 0);
    }

    /** The next sequence a shard's head, as read, says (0 for a head never written). */
    static long headSequence(KeyValue head) {
        return head == null ? 0 : MetadataCodec.decodeHead(head.key(), head.value()).getNextSequence();
    }

    /** The sequence the shard's ledger stands at, or -1 when it was never built. */
    long applied(int shard) {
        Holder h = holders.get(shard);
        if (h == null) {
            return -1;
        }
        synchronized (h) {
            return h.ledger == null ? -1 : h.ledger.applied();
        }
    }

    /**
     * For the first {@code most} shards whose ledger is built, the range of their commit entries past the
     * ledger's sequence (a few of them), to read with the heads: usually all a ledger needs to catch up.
     */
    List<KeyRange> catchUpRanges(List<Integer> shards, int most) {
        List<KeyRange> ranges = new ArrayList<>();
        for (int shard : shards) {
            long applied = applied(shard);
            if (ranges.size() < most && applied >= 0) {
                ranges.add(new KeyRange(keys.indexEntry(shard, applied),
                        keys.indexEntry(shard, KeyLayout.COMPACTION_SEQUENCE_BASE), CATCH_UP_ENTRIES));
            }
        }
        return ranges;
    }

    /**
     * Folds, in order, the commit entries among {@code values} (read with the heads, past the ledgers'
     * sequences: usually all a commit needs to catch up, with no further read). Other keys are ignored.
     */
    void foldRead(Collection<KeyValue> values) {
        Map<Integer, TreeMap<Long, KeyValue>> byShard = new HashMap<>();
        for (KeyValue v : values) {
            long[] id = keys.parseIndexEntry(v.key());
            if (id != null && id[1] < KeyLayout.COMPACTION_SEQUENCE_BASE) {
                byShard.computeIfAbsent((int) id[0], s -> new TreeMap<>()).put(id[1], v);
            }
        }
        byShard.forEach((shard, entries) -> {
            Holder h = holders.get(shard);
            if (h == null) {
                return;
            }
            List<IndexEntry> decoded = decode(shard, new ArrayList<>(entries.values()));
            synchronized (h) {
                if (h.ledger != null) {
                    decoded.forEach(h.ledger::fold);
                }
            }
        });
    }

    /** Folds an entry this store's commit just wrote (ignored unless the ledger stands right before it). */
    void committed(IndexEntry entry) {
        Holder h = holders.get(entry.shard());
        if (h != null) {
            synchronized (h) {
                if (h.ledger != null) {
                    h.ledger.fold(entry);
                    h.ledger.expire(clock.millis(), expiryMs);
                }
            }
        }
    }

    /**
     * Drops the partitions of deleted topics from every ledger: ids at most {@code upTo} that are not live
     * (a topic created after the read has a larger id and stays).
     */
    void forgetDeletedTopics(Set<Long> live, long upTo) {
        for (Holder h : holders.values()) {
            synchronized (h) {
                if (h.ledger != null) {
                    h.ledger.retainTopics(id -> id > upTo || live.contains(id));
                }
            }
        }
    }

    /** (partition, producer) states kept in memory across all shards. */
    long producerStates() {
        long n = 0;
        for (Holder h : holders.values()) {
            synchronized (h) {
                n += h.ledger == null ? 0 : h.ledger.producerStates();
            }
        }
        return n;
    }

    private CompletableFuture<Holder> upTo(Holder h, long sequence, boolean withProducers, int rebuilds) {
        long from;
        synchronized (h) {
            ShardLedger l = h.ledger;
            if (l != null && (!withProducers || l.hasProducers())) {
                if (l.applied() >= sequence) {
                    return CompletableFuture.completedFuture(h);
                }
                from = l.applied();
            } else {
                from = -1;
            }
        }
        if (from < 0) {
            return rebuildThen(h, sequence, withProducers, rebuilds);
        }
        return kv.range(keys.indexEntry(h.shard, from), keys.indexEntry(h.shard, sequence)).thenCompose(range -> {
            List<IndexEntry> entries = decode(h.shard, range.entries());
            synchronized (h) {
                if (h.ledger != null) {
                    entries.forEach(h.ledger::fold);
                    h.ledger.expire(clock.millis(), expiryMs);
                    if (h.ledger.applied() >= sequence && (!withProducers || h.ledger.hasProducers())) {
                        return CompletableFuture.completedFuture(h);
                    }
                }
            }
            // The entries after the ledger's sequence were merged away since (or the ledger was replaced).
            return rebuildThen(h, sequence, withProducers, rebuilds);
        });
    }

    /**
     * Builds the ledger anew (or joins a rebuild under way that loads at least what is needed) and installs
     * it, unless it would replace a ledger further on or one with producers by one without: a ledger with
     * producers is never traded for one without, so a commit never meets a shard whose producers it cannot see.
     */
    private CompletableFuture<Holder> rebuildThen(Holder h, long sequence, boolean withProducers, int rebuilds) {
        if (rebuilds >= MAX_REBUILDS) {
            return CompletableFuture.failedFuture(new MetadataException("the index of shard " + h.shard
                    + " kept changing under " + MAX_REBUILDS + " reads of it", true));
        }
        CompletableFuture<ShardLedger> built;
        synchronized (h) {
            boolean producers = withProducers || (h.ledger != null && h.ledger.hasProducers());
            if (h.rebuilding != null && (h.rebuildingWithProducers || !producers)) {
                built = h.rebuilding;
            } else {
                CompletableFuture<ShardLedger> started = rebuild(h.shard, producers);
                h.rebuilding = started;
                h.rebuildingWithProducers = producers;
                started.whenComplete((l, e) -> {
                    synchronized (h) {
                        if (h.rebuilding == started) {
                            h.rebuilding = null;
                        }
                    }
                });
                built = started;
            }
        }
        return built.thenCompose(ledger -> {
            synchronized (h) {
                ShardLedger current = h.ledger;
                if (current == null || (ledger.hasProducers() && !current.hasProducers())
                        || (ledger.applied() >= current.applied() && (ledger.hasProducers() || !current.hasProducers()))) {
                    h.ledger = ledger;
                }
            }
            return upTo(h, sequence, withProducers, rebuilds + 1);
        });
    }

    /**
     * The partitions' producers (all of one shard) as the shard's commits check them, for a reader
     * (DescribeProducers): from this store's ledger when it holds the shard's producers already (brought up to the
     * head), else from a ledger built aside and not kept, so describing producers never makes a node hold the
     * ledgers of shards it does not commit to. Readers asking for one shard at once share one build (one that
     * joins a build under way may miss a commit made since it began: fine for a diagnostic read).
     */
    CompletableFuture<Map<PartitionId, List<ProducerState>>> producers(int shard, Collection<PartitionId> partitions) {
        Holder h = holders.get(shard);
        boolean held = false;
        if (h != null) {
            synchronized (h) {
                held = h.ledger != null && h.ledger.hasProducers();
            }
        }
        if (held) {
            return kv.get(keys.head(shard)).thenCompose(head -> upTo(h, headSequence(head.orElse(null)), true, 0))
                    .thenApply(x -> {
                        synchronized (x) {
                            return producersOf(x.ledger, partitions);
                        }
                    });
        }
        CompletableFuture<ShardLedger> started = new CompletableFuture<>();
        CompletableFuture<ShardLedger> build = asideBuilds.putIfAbsent(shard, started);
        if (build == null) {
            build = started;
            CompletableFuture<ShardLedger> read;
            try {
                read = rebuild(shard, true);
            } catch (RuntimeException e) {
                read = CompletableFuture.failedFuture(e); // never left under way for the next reader to wait on
            }
            read.whenComplete((ledger, failure) -> {
                asideBuilds.remove(shard, started);
                if (failure != null) {
                    started.completeExceptionally(failure);
                } else {
                    started.complete(ledger);
                }
            });
        }
        return build.thenApply(ledger -> producersOf(ledger, partitions));
    }

    /** Ledgers being built aside for readers, by shard: shared while under way, dropped once built. */
    private final ConcurrentHashMap<Integer, CompletableFuture<ShardLedger>> asideBuilds = new ConcurrentHashMap<>();

    private static Map<PartitionId, List<ProducerState>> producersOf(ShardLedger ledger,
                                                                    Collection<PartitionId> partitions) {
        Map<PartitionId, List<ProducerState>> out = new HashMap<>();
        partitions.forEach(p -> out.put(p, ledger.producers(p)));
        return out;
    }

    /** Reads the head's sequence, then the whole shard, then (if wanted) the producer snapshot it references. */
    private CompletableFuture<ShardLedger> rebuild(int shard, boolean withProducers) {
        rebuilds.increment();
        return kv.get(keys.head(shard)).thenCompose(head -> {
            long headSequence = headSequence(head.orElse(null));
            return kv.range(keys.indexShardPrefix(shard)).thenCompose(range -> {
                ShardState state = ShardState.INITIAL;
                List<KeyValue> entryValues = new ArrayList<>();
                for (KeyValue v : range.entries()) {
                    if (keys.parseIndexState(v.key()) >= 0) {
                        state = MetadataCodec.decodeShardState(v.key(), v.value());
                    } else {
                        entryValues.add(v);
                    }
                }
                List<IndexEntry> entries = decode(shard, entryValues);
                ShardState read = state;
                ProducerSnapshotRef ref = state.producers();
                if (!withProducers) {
                    return CompletableFuture.completedFuture(ShardLedger.rebuild(headSequence, read, entries, null));
                }
                if (ref == null || !ref.hasObject()) {
                    return CompletableFuture.completedFuture(
                            ShardLedger.rebuild(headSequence, read, entries, new ProducerStates()));
                }
                ProducerSnapshotReader reader = snapshots;
                if (reader == null) {
                    return CompletableFuture.failedFuture(new MetadataException("the producer state of shard "
                            + shard + " is in the object " + ref.objectKey() + ", and this metadata store was "
                            + "given no object store to read it from", false));
                }
                return reader.read(ref.objectKey()).thenApply(bytes -> {
                    ProducerStates states = MetadataCodec.decodeProducerSnapshot(ref, bytes).states();
                    states.expire(clock.millis() - expiryMs);
                    return ShardLedger.rebuild(headSequence, read, entries, states);
                });
            });
        });
    }

    private List<IndexEntry> decode(int shard, List<KeyValue> values) {
        List<IndexEntry> entries = new ArrayList<>(values.size());
        for (KeyValue v : values) {
            long[] id = keys.parseIndexEntry(v.key());
            if (id != null && id[0] == shard) {
                entries.add(MetadataCodec.decodeIndexEntry(v.key(), shard, id[1], v.value()));
            }
        }
        return entries;
    }
}
