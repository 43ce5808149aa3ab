package io.strata.compaction.exec;

import static io.strata.compaction.Blocking.await;

import io.strata.compaction.CompactionSettings;
import io.strata.compaction.CompactionStats;
import io.strata.compaction.plan.Footers;
import io.strata.compaction.plan.SegmentBuild;
import io.strata.compaction.plan.ShardPlan;
import io.strata.compaction.plan.ShardPlanner;
import io.strata.compaction.plan.TransactionView;
import io.strata.format.SealedSegment;
import io.strata.format.SegmentChunk;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.KeyLayout;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.ProducerSnapshotRef;
import io.strata.metadata.ProducerStates;
import io.strata.metadata.SegmentRef;
import io.strata.metadata.ShardSizes;
import io.strata.metadata.ShardSnapshot;
import io.strata.metadata.ShardState;
import io.strata.metadata.ShardSwap;
import io.strata.metadata.SwapOutcome;
import io.strata.metadata.Topic;
import io.strata.metadata.WorkLock;
import io.strata.metadata.codec.MetadataCodec;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import io.strata.storage.segment.SegmentFooterReader;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the planner's steps for one shard whose lock the caller holds: read the shard, read the topics
 * (after the shard: a partition whose topic is missing then was deleted), plan, write the step's segments,
 * swap. A swap that conflicts (the lock was lost, or someone else changed the shard) abandons the rest of the
 * shard's work until the next pass; segments written for it are never referenced, and the garbage collector
 * takes them after its grace. Nothing is ever deleted here: objects go only through the collector.
 *
 * <p>Blocking: runs on the worker's thread, waiting on the stores' futures with the stores' own timeouts.
 */
public final class ShardCompactor {
    private static final Logger LOG = LoggerFactory.getLogger(ShardCompactor.class);

    private final MetadataStore metadata;
    private final ObjectStore objects;
    private final CompactionSettings settings;
    private final ShardPlanner planner;
    private final SourceReader reader;
    private final SegmentFooterReader footerReader;
    private final CompactionStats stats;
    private final Clock clock;

    /**
     * Segment footers read, kept across passes (a segment is immutable, its key never reused): most passes
     * need the footers of the partitions' first and last segments again. The oldest read go first beyond
     * {@link #FOOTERS_KEPT} (a footer is about 100 bytes a chunk, so at most a few tens of MB).
     */
    private final Map<String, List<SegmentChunk>> footers = new java.util.LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, List<SegmentChunk>> eldest) {
            return size() > FOOTERS_KEPT;
        }
    };
    private static final int FOOTERS_KEPT = 2_000;

    public ShardCompactor(MetadataStore metadata, ObjectStore objects, CompactionSettings settings,
                          CompactionStats stats, Clock clock) {
        this(metadata, objects, objects, settings, stats, clock);
    }

    /**
     * A compactor that reads its merges' sources through {@code sourceObjects} (a {@link WalBlockCache} over
     * {@code objects}) and writes and reads everything else through {@code objects}.
     */
    public ShardCompactor(MetadataStore metadata, ObjectStore objects, ObjectStore sourceObjects,
                          CompactionSettings settings, CompactionStats stats, Clock clock) {
        this.metadata = metadata;
        this.objects = objects;
        this.settings = settings;
        this.stats = stats;
        this.clock = clock;
        var store = metadata.compaction();
        this.planner = new ShardPlanner(settings, store.maxTxnOps(), store.maxTxnBytes() * 3L / 4);
        this.reader = new SourceReader(sourceObjects, 16L << 20, 8);
        this.footerReader = new SegmentFooterReader(objects);
    }

    /** What one shard's run saw and did. */
    public record Outcome(int steps, int entries, long oldestWalCommitMs, long retentionLagMs) {
    }

    /**
     * The shard's next step. Each round reads every footer the plan asked for; a plan may ask again for footers
     * its new choices need (a cut inside a segment changes what is merged), so a few rounds, not one.
     */
    private ShardPlan plan(ShardSnapshot snapshot, Map<Long, Topic> topics, long now, TransactionView transactions) {
        ShardPlan plan = planner.plan(snapshot, topics, new Footers(footers), now, transactions);
        for (int reads = 0; plan instanceof ShardPlan.NeedFooters need && reads < 5; reads++) {
            for (SegmentRef segment : need.segments()) {
                footers.put(segment.objectKey(), await(footerReader.read(segment.objectKey(),
                        segment.footerOffset(), segment.footerLength(), segment.footerCrc32c())));
            }
            plan = planner.plan(snapshot, topics, new Footers(footers), now, transactions);
        }
        return plan;
    }

    /** Runs the shard's steps (at most {@code maxStepsPerShard}) while {@code lock} is held. */
    public Outcome run(int shard, WorkLock lock) {
        int steps = 0;
        ShardSnapshot snapshot = null;
        Map<Long, Topic> topics = Map.of();
        while (steps < settings.maxStepsPerShard()) {
            snapshot = await(metadata.compaction().readShard(shard));
            topics = await(metadata.listTopics()).stream().collect(Collectors.toMap(Topic::topicId, Function.identity()));
            long now = clock.millis();
            TransactionView transactions = TransactionView.NONE;
            ShardPlan plan = plan(snapshot, topics, now, transactions);
            if (plan instanceof ShardPlan.Clean) {
                // A cleaning judges transactional batches and stops where read-committed readers are held: the
                // transactions' state is read now, after the snapshot, and the cleaning planned again with it.
                transactions = transactions();
                plan = plan(snapshot, topics, now, transactions);
            }
            boolean applied;
            if (plan instanceof ShardPlan.Step step) {
                applied = apply(shard, lock, snapshot, step);
            } else if (plan instanceof ShardPlan.Clean clean) {
                applied = clean(shard, lock, snapshot, clean, transactions);
            } else {
                if (LOG.isDebugEnabled()) {
                    LOG.debug("shard {}: {} after {} step(s); {}", shard, plan, steps, describe(snapshot));
                }
                break;
            }
            if (!applied) {
                break;
            }
            steps++;
        }
        if (snapshot == null) {
            return new Outcome(steps, 0, Long.MAX_VALUE, 0);
        }
        Map<io.strata.metadata.PartitionId, io.strata.compaction.plan.PartitionLog> logs =
                io.strata.compaction.plan.PartitionLog.of(snapshot);
        noteSizes(shard, lock, sizes(logs, topics));
        return observe(snapshot, logs, topics, steps);
    }

    /**
     * Writes down what the shard's partitions store (for the console and {@code DescribeTopic}), measured from
     * the index this run read last; only when it changed since this worker last wrote it, or after
     * {@link #SIZES_REFRESH}, so an idle cluster's store stays quiet. A measure not written down is no failure.
     */
    private void noteSizes(int shard, WorkLock lock, Map<io.strata.metadata.PartitionId, Long> bytes) {
        long now = clock.millis();
        ShardSizes last = sizesWritten.get(shard);
        if (last != null && last.bytes().equals(bytes) && now - last.measuredAtMs() < SIZES_REFRESH.toMillis()) {
            return;
        }
        ShardSizes sizes = new ShardSizes(shard, now, bytes);
        try {
            await(metadata.compaction().recordSizes(sizes, lock));
            sizesWritten.put(shard, sizes);
        } catch (RuntimeException e) {
            LOG.debug("sizes of shard {} not written down: {}", shard, e.toString());
        }
    }

    /** The bytes each live topic's partition references in the snapshot, its staging and half logs counted with it. */
    static Map<io.strata.metadata.PartitionId, Long> sizes(
            Map<io.strata.metadata.PartitionId, io.strata.compaction.plan.PartitionLog> logs, Map<Long, Topic> topics) {
        Map<io.strata.metadata.PartitionId, Long> bytes = new HashMap<>();
        for (var log : logs.values()) {
            if (topics.containsKey(log.partition().topicId())) {
                bytes.merge(log.partition().target(), log.storedBytes(), Long::sum);
            }
        }
        return bytes;
    }

    /** How long sizes that did not change stay unwritten (the page shows when they were measured). */
    static final java.time.Duration SIZES_REFRESH = java.time.Duration.ofMinutes(5);
    private final Map<Integer, ShardSizes> sizesWritten = new HashMap<>();

    /** Writes the step's segments and swaps; false when the swap did not apply. */
    private boolean apply(int shard, WorkLock lock, ShardSnapshot snapshot, ShardPlan.Step step) {
        long now = clock.millis();
        List<IndexEntry> added = new ArrayList<>(step.rewritten());
        Set<String> written = new HashSet<>();
        Map<ChunkRef, ByteBuffer> read = new java.util.IdentityHashMap<>();
        int readUpTo = 0;
        for (int b = 0; b < step.builds().size(); b++) {
            SegmentBuild build = step.builds().get(b);
            if (b == readUpTo) {
                read.clear();
                readUpTo = readTogether(step.builds(), b, read);
            }
            SealedSegment sealed = SegmentBuilder.build(build, build.sources().stream().map(read::get).toList(),
                    settings.segmentChunkBytes(), settings.compressionLevel());
            String key = segmentKey(build.partition(), build.baseOffset());
            await(objects.put(ObjectKey.of(key), sealed.bytes()));
            stats.segmentWritten(sealed.sizeBytes());
            written.add(key);
            SegmentRef ref = SegmentRef.of(build.partition(), key, sealed.chunks(), sealed.footerOffset(),
                    sealed.footerLength(), sealed.footerCrc32c());
            added.add(IndexEntry.segment(shard, build.sequence(), now, ref));
        }
        ProducerSnapshotRef producers = producersFor(shard, snapshot, step.replaced().keySet(), written);
        ShardSwap swap = new ShardSwap(shard, lock, snapshot.stateModRevision(),
                new ShardState(step.nextSequence(), step.logStarts(), step.cleanings(), producers), step.replaced(),
                carryTransactional(snapshot, step.replaced().keySet(), added, () -> transactions()::stillNeeded),
                written);
        if (!swapped(swap, snapshot, step.forgotten())) {
            return false;
        }
        ShardPlan.StepSummary s = step.summary();
        stats.stepApplied(s);
        LOG.info("shard {}: {} merge(s) of {} bytes into {} segment(s), {} partition(s) expired ({} bytes), {} of "
                        + "deleted topics removed; index entries {} -> {}", shard, s.merges(), s.bytesMerged(),
                step.builds().size(), s.partitionsExpired(), s.bytesExpired(), s.partitionsDeleted(), s.entriesBefore(),
                s.entriesAfter());
        return true;
    }

    /**
     * Reads the sources of builds [{@code from}, n) together, for as many builds as hold at most a segment's
     * worth of bytes (at least one), into {@code into}; answers n. Read in object order, a WAL block's chunks
     * of every partition of the step come in one ranged GET instead of one GET per partition: S3 bills
     * requests, and a block holds chunks of many partitions.
     */
    private int readTogether(List<SegmentBuild> builds, int from, Map<ChunkRef, ByteBuffer> into) {
        int to = from;
        long bytes = 0;
        while (to < builds.size() && (to == from || bytes + builds.get(to).storedBytes() <= settings.segmentBytes())) {
            bytes += builds.get(to).storedBytes();
            to++;
        }
        List<ChunkRef> sources = new ArrayList<>();
        builds.subList(from, to).forEach(b -> sources.addAll(b.sources()));
        sources.sort(java.util.Comparator.comparing(ChunkRef::objectKey).thenComparingLong(ChunkRef::byteOffset));
        List<ByteBuffer> bytesRead = await(reader.read(sources));
        for (int i = 0; i < sources.size(); i++) {
            into.put(sources.get(i), bytesRead.get(i));
        }
        return to;
    }

    /** Each partition's pieces in short, for debugging what the planner saw. */
    private String describe(ShardSnapshot snapshot) {
        StringBuilder out = new StringBuilder();
        long youngest = clock.millis() - settings.minAge().toMillis();
        io.strata.compaction.plan.PartitionLog.of(snapshot).forEach((p, log) -> {
            long segments = log.pieces().stream().filter(x -> x instanceof io.strata.compaction.plan.Piece.Segment)
                    .count();
            long oldWal = log.pieces().stream().filter(x -> x instanceof io.strata.compaction.plan.Piece.Wal w
                    && w.entry().committedAtMs() <= youngest).count();
            out.append(p).append(": ").append(segments).append(" segments, ").append(log.pieces().size() - segments)
                    .append(" WAL chunks (").append(oldWal).append(" past min-age), contiguous ")
                    .append(log.contiguous()).append("; ");
        });
        return out.toString();
    }

    /**
     * The entries a swap adds, carrying the transactional batches of those it replaces that read-committed readers
     * may still have to leave out, as {@code needed} judges them (asked only when a replaced entry carries one).
     */
    private List<IndexEntry> carryTransactional(
            ShardSnapshot snapshot, Set<Long> replaced, List<IndexEntry> added,
            java.util.function.Supplier<java.util.function.Predicate<io.strata.metadata.ProducerAppend>> needed) {
        List<IndexEntry> leaving = snapshot.entries().stream().filter(e -> replaced.contains(e.sequence())).toList();
        if (!io.strata.compaction.plan.TransactionalCarry.any(leaving)) {
            return added;
        }
        return io.strata.compaction.plan.TransactionalCarry.carry(leaving, added, needed.get());
    }

    /**
     * The transactions' state, read after the shard's snapshot: every batch in the snapshot belongs to a
     * transaction that state knows, and one it says committed stays committed.
     */
    private TransactionView transactions() {
        io.strata.metadata.txn.TransactionStore.Snapshot txns = await(metadata.transactions().snapshot());
        io.strata.transactions.StableOffsets stable = new io.strata.transactions.StableOffsets();
        boolean unknown = false;
        for (io.strata.metadata.txn.TransactionStore.Named n : txns.records()) {
            try {
                stable.apply(n.transactionalId(), io.strata.transactions.TransactionCodec.decode(n.stored().record()));
            } catch (IllegalArgumentException unreadable) {
                // Fetch nodes hold readers nowhere for it either; its batches, wherever they are, count as open.
                LOG.warn("the record of transactional id {} does not decode: every transactional batch is taken "
                        + "for open", n.transactionalId());
                unknown = true;
            }
        }
        Set<List<Long>> aborted = new HashSet<>();
        txns.marks().forEach(m -> aborted.add(List.of(m.topicId(), (long) m.partition(), m.producerId(),
                m.txnEpoch())));
        return new TransactionView(aborted, p -> stable.heldAt(p.topicId(), p.partition()), unknown);
    }

    /** How many times a step is swapped in again over log starts raised meanwhile before it waits for the next pass. */
    private static final int RAISE_MERGES = 3;

    /** Swaps; false (and logged) when the swap did not apply. */
    private boolean swapped(ShardSwap swap, ShardSnapshot planned, Set<io.strata.metadata.PartitionId> forgotten) {
        SwapOutcome outcome = await(metadata.compaction().swap(swap));
        // DeleteRecords raises log starts in the state (raiseLogStarts) and so fails the guard of a step planned
        // before it, which may have written gigabytes of segments. A higher start only lets more be cut: while
        // nothing else in the state moved, the step is swapped in with the raised starts merged.
        for (int retries = 0; outcome instanceof SwapOutcome.Conflict && retries < RAISE_MERGES; retries++) {
            ShardSnapshot now = await(metadata.compaction().readShard(swap.shard()));
            ShardState moved = now.state();
            ShardState before = planned.state();
            if (moved.nextSequence() != before.nextSequence() || !moved.cleanings().equals(before.cleanings())
                    || !java.util.Objects.equals(moved.producers(), before.producers())
                    || moved.logStarts().equals(before.logStarts())) {
                break; // another step, or the lock or an entry moved: planned again next time
            }
            Map<io.strata.metadata.PartitionId, Long> starts = new HashMap<>(swap.newState().logStarts());
            moved.logStarts().forEach((p, start) -> {
                if (start > before.logStart(p) && !forgotten.contains(p)) { // a forgotten one's topic is gone
                    starts.merge(p, start, Math::max);
                }
            });
            swap = new ShardSwap(swap.shard(), swap.lock(), now.stateModRevision(), new ShardState(
                    swap.newState().nextSequence(), starts, swap.newState().cleanings(), swap.newState().producers()),
                    swap.replaced(), swap.added(), swap.newObjects());
            outcome = await(metadata.compaction().swap(swap));
        }
        if (outcome instanceof SwapOutcome.Conflict conflict) {
            stats.conflict();
            LOG.info("shard {}: step abandoned ({}); {} segment(s) written for it are left to the garbage collector",
                    swap.shard(), conflict.why(), swap.newObjects().size());
            return false;
        }
        return true;
    }

    /** Cleans a key-compacted partition, writing its segments as they fill, and swaps them in; false on conflict. */
    private boolean clean(int shard, WorkLock lock, ShardSnapshot snapshot, ShardPlan.Clean clean,
                          TransactionView transactions) {
        long now = clock.millis();
        long next = snapshot.state().nextSequence();
        List<IndexEntry> added = new ArrayList<>();
        Set<String> written = new HashSet<>();
        KeyCleaner cleaner = new KeyCleaner(clean, reader, settings.segmentBytes(), settings.segmentChunkBytes(),
                settings.compressionLevel(), (sealed, base, end) -> {
                    String key = segmentKey(clean.partition(), base);
                    await(objects.put(ObjectKey.of(key), sealed.bytes()));
                    stats.segmentWritten(sealed.sizeBytes());
                    written.add(key);
                    SegmentRef ref = SegmentRef.of(clean.partition(), key, sealed.chunks(), sealed.footerOffset(),
                            sealed.footerLength(), sealed.footerCrc32c());
                    added.add(IndexEntry.segment(shard, next + added.size(), now, ref));
                });
        KeyCleaner.Result result = cleaner.run();
        Map<io.strata.metadata.PartitionId, io.strata.metadata.KeyCleaning> cleanings =
                new HashMap<>(snapshot.state().cleanings());
        cleanings.put(clean.partition(), result.cleaning());
        ProducerSnapshotRef producers = producersFor(shard, snapshot, clean.replaced().keySet(), written);
        ShardSwap swap = new ShardSwap(shard, lock, snapshot.stateModRevision(),
                new ShardState(next + added.size(), snapshot.state().logStarts(), cleanings, producers),
                clean.replaced(), carryTransactional(snapshot, clean.replaced().keySet(), added,
                        // The cleaning left every aborted record out but its last: a batch of those goes with them.
                        () -> a -> transactions.open(a) || (transactions.aborted(a)
                                && a.baseOffset() <= result.lastOffset()
                                && result.lastOffset() < a.baseOffset() + a.recordCount())),
                written);
        if (!swapped(swap, snapshot, Set.of())) {
            return false;
        }
        stats.cleaned(clean.storedBytes(), result.recordsRemoved(), result.tombstonesRemoved());
        LOG.info("shard {}: cleaned {} to offset {}: {} bytes in {} segment(s) -> {} segment(s); {} of {} records "
                        + "removed ({} tombstones, {} without a key, {} of aborted transactions)", shard,
                clean.partition(), clean.cleanEnd(), clean.storedBytes(), clean.replaced().size(), result.segments(),
                result.recordsRemoved(), result.recordsRead(), result.tombstonesRemoved(), result.keylessRemoved(),
                result.abortedRemoved());
        return true;
    }

    /**
     * The producer snapshot the swap is to reference. Commit entries carry the producer batches their commits
     * appended, and commits rebuild producer state from the snapshot and the entries it does not cover; so
     * before a swap merges away (or rewrites without its batches) a commit entry the current snapshot does not
     * cover, a new snapshot is written: the current one with every commit entry of the shard folded in (all
     * those it does not cover are still there: only covered ones are ever removed), producers idle past the
     * expiry dropped. Otherwise the current one stays. A swap that then conflicts leaves the new object to the
     * garbage collector. Without any producer state there is no object: the reference only moves its sequence
     * (its object key is empty), and so it does when nothing new was appended and nothing expired.
     */
    private ProducerSnapshotRef producersFor(int shard, ShardSnapshot snapshot, Set<Long> replaced,
                                             Set<String> written) {
        ProducerSnapshotRef current = snapshot.state().producers();
        long covered = snapshot.state().producersCoverBefore();
        if (replaced.stream().noneMatch(sequence -> sequence >= covered
                && sequence < KeyLayout.COMPACTION_SEQUENCE_BASE)) {
            return current;
        }
        long coversBefore = covered;
        List<IndexEntry> commits = snapshot.entries().stream()
                .filter(e -> e.sequence() >= covered && e.sequence() < KeyLayout.COMPACTION_SEQUENCE_BASE)
                .sorted(java.util.Comparator.comparingLong(IndexEntry::sequence)).toList();
        boolean appended = false;
        for (IndexEntry e : commits) {
            appended |= !e.appends().isEmpty();
            coversBefore = e.sequence() + 1;
        }
        boolean empty = current == null || current.objectKey().isEmpty();
        if (!appended && empty) {
            return ProducerSnapshotRef.empty(coversBefore); // no idempotent producer: no object to write
        }
        ProducerStates states = empty ? new ProducerStates()
                : MetadataCodec.decodeProducerSnapshot(current, await(objects.get(ObjectKey.of(current.objectKey())))).states();
        commits.forEach(states::fold);
        long now = clock.millis();
        long expired = states.expire(now - settings.producerStateExpiry().toMillis());
        if (!appended && expired == 0) {
            return current.covering(coversBefore);
        }
        if (states.size() == 0) {
            return ProducerSnapshotRef.empty(coversBefore);
        }
        byte[] bytes = MetadataCodec.encodeProducerSnapshot(shard, coversBefore, now, states);
        String key = String.format("producer-state/%05d/%d-%s", shard, coversBefore,
                UUID.randomUUID().toString().substring(0, 8));
        await(objects.put(ObjectKey.of(key), ByteBuffer.wrap(bytes)));
        written.add(key);
        if (LOG.isDebugEnabled()) {
            LOG.debug("shard {}: producer snapshot {} of {} states, {} bytes, covering commits before {}", shard, key,
                    states.size(), bytes.length, coversBefore);
        }
        return ProducerSnapshotRef.of(key, coversBefore, bytes);
    }

    /** A fresh key for a segment, spread over 256 prefixes like WAL blocks' (S3 scales request rates per prefix). */
    private static String segmentKey(io.strata.metadata.PartitionId partition, long baseOffset) {
        return String.format("segments/%02x/%d-%d-%d-%s", ThreadLocalRandom.current().nextInt(256),
                partition.topicId(), partition.partition(), baseOffset, UUID.randomUUID().toString().substring(0, 8));
    }

    /** The shard's oldest unmerged WAL chunk and retention lag, as last read (for metrics). */
    private Outcome observe(ShardSnapshot snapshot,
                            Map<io.strata.metadata.PartitionId, io.strata.compaction.plan.PartitionLog> logs,
                            Map<Long, Topic> topics, int steps) {
        long oldest = Long.MAX_VALUE;
        for (IndexEntry e : snapshot.entries()) {
            if (!e.isSegment()) {
                oldest = Math.min(oldest, e.committedAtMs());
            }
        }
        long lag = 0;
        long now = clock.millis();
        for (var log : logs.values()) {
            Topic topic = topics.get(log.partition().topicId());
            if (topic != null) {
                topic = log.partition().isStaging() ? topic.stagingView() : topic;
                lag = Math.max(lag, io.strata.compaction.plan.RetentionPolicy.lagMs(log, topic, now));
            }
        }
        return new Outcome(steps, snapshot.entries().size(), oldest, lag);
    }
}
