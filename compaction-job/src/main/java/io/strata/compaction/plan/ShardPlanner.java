package io.strata.compaction.plan;

import io.strata.compaction.CompactionSettings;
import io.strata.format.SegmentChunk;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.KeyCleaning;
import io.strata.metadata.PartitionId;
import io.strata.metadata.SegmentRef;
import io.strata.metadata.ShardSnapshot;
import io.strata.metadata.Topic;
import io.strata.metadata.codec.MetadataCodec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides the next guarded change of one shard from its snapshot alone: pure, so what it does to every kind
 * of index is tested without storage. In order of urgency it removes the partitions of deleted topics,
 * cuts what retention expired, and merges what {@link MergePolicy} picks, as much of each as one
 * transaction holds ({@code maxOps} guards and ops, {@code maxBytes}); what does not fit waits for the next
 * step. A partition's work is cut short at a piece boundary, so every step leaves a valid index. With none of
 * that left, it cleans the first key-compacted partition whose cleaning is due ({@link CleaningPolicy}).
 */
public final class ShardPlanner {
    private final CompactionSettings settings;
    private final int maxOps;
    private final long maxBytes;

    public ShardPlanner(CompactionSettings settings, int maxOps, long maxBytes) {
        this.settings = settings;
        this.maxOps = maxOps;
        this.maxBytes = maxBytes;
    }

    /**
     * The next step for the shard, key cleanings judging transactional batches and holds by {@code transactions},
     * read after the snapshot. A cleaning planned with {@link TransactionView#NONE} knows of no hold: it is only
     * a sign that one may be due, to be planned again with the transactions' state before it is carried out.
     *
     * @param topics the live topics by id, read after the snapshot (a partition of the snapshot whose topic is
     *               not here was deleted: topic ids are never reused)
     */
    public ShardPlan plan(ShardSnapshot snapshot, Map<Long, Topic> topics, Footers footers, long now,
                          TransactionView transactions) {
        Map<PartitionId, PartitionLog> logs = PartitionLog.of(snapshot);
        Set<SegmentRef> needed = new LinkedHashSet<>();
        Step step = new Step(snapshot);
        Map<PartitionId, Long> logStarts = new HashMap<>(snapshot.state().logStarts());
        Map<PartitionId, KeyCleaning> cleanings = new HashMap<>(snapshot.state().cleanings());
        Set<PartitionId> forgotten = new HashSet<>();
        int deleted = 0;
        int expired = 0;
        long expiredBytes = 0;
        Map<PartitionId, Position> cuts = new HashMap<>();

        for (PartitionLog log : logs.values()) {
            if (topics.containsKey(log.partition().topicId())) {
                continue;
            }
            int removed = step.addLargestPrefix(log, log.pieces().size(), 0, null);
            if (removed == log.pieces().size()) {
                logStarts.remove(log.partition());
                cleanings.remove(log.partition());
                forgotten.add(log.partition());
                deleted++;
            }
        }
        for (PartitionLog log : logs.values()) {
            Topic topic = topicOf(log.partition(), topics);
            if (topic == null || !log.contiguous()) {
                continue;
            }
            Position cut = RetentionPolicy.cut(log, topic, now, footers, needed);
            if (cut.equals(Position.START)) {
                continue;
            }
            SegmentRef cutSegment = null;
            if (cut.skipChunks() > 0) {
                SegmentRef segment = ((Piece.Segment) log.pieces().get(cut.piece())).segment();
                cutSegment = segment.from(segment.firstChunk() + cut.skipChunks(), footers.all(segment));
            }
            int removed = step.addLargestPrefix(log, cut.piece(), cut.skipChunks(), cutSegment);
            boolean whole = removed == cut.piece(); // with the cut inside the next segment, if there is one
            if (removed == 0 && !(whole && cutSegment != null)) {
                continue;
            }
            Position applied = whole ? cut : new Position(removed, 0);
            long start = applied.piece() == log.pieces().size() ? log.endOffset()
                    : applied.skipChunks() > 0 ? cutSegment.baseOffset() : log.pieces().get(applied.piece()).baseOffset();
            logStarts.merge(log.partition(), start, Math::max);
            cuts.put(log.partition(), applied);
            expired++;
            for (int i = 0; i < removed; i++) {
                expiredBytes += log.pieces().get(i).storedBytes();
            }
        }
        int merges = 0;
        long mergedBytes = 0;
        for (PartitionLog log : logs.values()) {
            Topic topic = topicOf(log.partition(), topics);
            if (topic == null || !log.contiguous()) {
                continue;
            }
            Position cut = cuts.getOrDefault(log.partition(), Position.START);
            int first = cut.piece() + (cut.skipChunks() > 0 ? 1 : 0); // a segment cut this step is not also merged
            List<Piece> rest = log.pieces().subList(Math.min(first, log.pieces().size()), log.pieces().size());
            for (MergePolicy.Run run : MergePolicy.runs(rest, now, settings)) {
                List<Piece> pieces = rest.subList(run.from(), run.to());
                List<ChunkRef> sources = sources(log.partition(), pieces, footers, needed);
                if (sources == null) {
                    continue;
                }
                long merged = step.addMerge(log.partition(), pieces, sources, settings.segmentBytes());
                if (merged > 0) {
                    merges++;
                    mergedBytes += merged;
                }
            }
        }
        if (!needed.isEmpty()) {
            return new ShardPlan.NeedFooters(needed);
        }
        if (step.isEmpty() && logStarts.equals(snapshot.state().logStarts())
                && cleanings.equals(snapshot.state().cleanings())) {
            return clean(logs, topics, snapshot, footers, now, transactions);
        }
        return step.finish(logStarts, cleanings, forgotten, new int[] {deleted, expired, merges}, expiredBytes,
                mergedBytes);
    }

    /** The partition's topic as compaction treats it: a staging partition's records by {@link Topic#stagingView}. */
    private static Topic topicOf(PartitionId partition, Map<Long, Topic> topics) {
        Topic topic = topics.get(partition.topicId());
        return topic != null && partition.isStaging() ? topic.stagingView() : topic;
    }

    /**
     * With nothing else to do in the shard: the first partition whose key-compaction cleaning is due, footers
     * to read for the due ones, or nothing. A cleaning is a step of its own: it rewrites whole segments, and
     * what it writes depends on what it reads.
     */
    private ShardPlan clean(Map<PartitionId, PartitionLog> logs, Map<Long, Topic> topics, ShardSnapshot snapshot,
                            Footers footers, long now, TransactionView transactions) {
        Set<SegmentRef> needed = new LinkedHashSet<>();
        int maxSegments = Math.max(1, (maxOps - 3) / 2); // n deletes, at most n + 1 puts, the state
        for (PartitionLog log : logs.values()) {
            Topic topic = topicOf(log.partition(), topics);
            if (topic == null) {
                continue;
            }
            ShardPlan.Clean clean = CleaningPolicy.plan(log, topic, snapshot.state().cleaning(log.partition()), now,
                    settings, maxSegments, snapshot.modRevisions(), footers, needed, transactions);
            if (clean != null) {
                return clean;
            }
        }
        return needed.isEmpty() ? new ShardPlan.Nothing() : new ShardPlan.NeedFooters(needed);
    }

    /**
     * The chunks of the pieces in offset order (segments' live chunks from their footers); null if a footer is
     * unread, after adding every unread one to {@code needed}.
     */
    private static List<ChunkRef> sources(PartitionId partition, List<Piece> pieces, Footers footers,
                                          Set<SegmentRef> needed) {
        List<ChunkRef> out = new ArrayList<>();
        boolean complete = true;
        for (Piece piece : pieces) {
            if (piece instanceof Piece.Wal wal) {
                out.add(wal.chunk());
                continue;
            }
            SegmentRef segment = ((Piece.Segment) piece).segment();
            List<SegmentChunk> live = footers.live(segment);
            if (live == null) {
                needed.add(segment); // and go on: every footer missing is asked for at once
                complete = false;
                continue;
            }
            live.forEach(c -> out.add(ChunkRef.of(partition, segment.objectKey(), c)));
        }
        return complete ? out : null;
    }

    /** The changes of one step, kept within one transaction's limits as they are added. */
    private final class Step {
        private final ShardSnapshot snapshot;
        /** WAL entries losing some of their chunks: the partitions whose chunks leave, by sequence. */
        private final Map<Long, Set<PartitionId>> walRemovals = new LinkedHashMap<>();
        private final Set<Long> entriesRemoved = new LinkedHashSet<>();
        private final Map<Long, SegmentRef> segmentsCut = new LinkedHashMap<>();
        private final List<PartitionId> buildPartitions = new ArrayList<>();
        private final List<List<ChunkRef>> builds = new ArrayList<>();
        private final Map<Long, IndexEntry> bySequence = new HashMap<>();

        Step(ShardSnapshot snapshot) {
            this.snapshot = snapshot;
            snapshot.entries().forEach(e -> bySequence.put(e.sequence(), e));
        }

        boolean isEmpty() {
            return walRemovals.isEmpty() && entriesRemoved.isEmpty() && segmentsCut.isEmpty() && builds.isEmpty();
        }

        /**
         * Removes the first {@code count} pieces of the partition (and cuts {@code cutSegment} in place of the
         * next piece when given), or as many of them as fit; answers how many were removed.
         */
        int addLargestPrefix(PartitionLog log, int count, int skipChunks, SegmentRef cutSegment) {
            for (int n = count; n >= 0; n = n == 0 ? -1 : n / 2) {
                boolean withCut = n == count && cutSegment != null;
                if (n == 0 && !withCut) {
                    return 0;
                }
                Undo undo = new Undo();
                for (Piece piece : log.pieces().subList(0, n)) {
                    remove(log.partition(), piece, undo);
                }
                if (withCut) {
                    long sequence = log.pieces().get(n).entry().sequence();
                    segmentsCut.put(sequence, cutSegment);
                    undo.cut = sequence;
                }
                if (fits()) {
                    return n;
                }
                undo.apply();
            }
            return 0;
        }

        /**
         * Replaces the pieces by segments of the sources (cut at {@code segmentBytes}), or as long a prefix of the
         * pieces as fits (at least two, or one WAL chunk); answers the bytes merged (0 when nothing fits).
         */
        long addMerge(PartitionId partition, List<Piece> pieces, List<ChunkRef> sources, long segmentBytes) {
            for (int n = pieces.size(); n > 0; n = n / 2) {
                if (n == 1 && pieces.get(0) instanceof Piece.Segment && !MergePolicy.mostlyDead(pieces.get(0), settings)) {
                    return 0;
                }
                long end = pieces.get(n - 1).endOffset();
                List<ChunkRef> taken = sources.stream().filter(c -> c.endOffset() <= end).toList();
                Undo undo = new Undo();
                for (Piece piece : pieces.subList(0, n)) {
                    remove(partition, piece, undo);
                }
                List<List<ChunkRef>> groups = group(taken, segmentBytes);
                groups.forEach(g -> {
                    buildPartitions.add(partition);
                    builds.add(g);
                });
                undo.builds = groups.size();
                if (fits()) {
                    return taken.stream().mapToLong(ChunkRef::byteLength).sum();
                }
                undo.apply();
            }
            return 0;
        }

        private void remove(PartitionId partition, Piece piece, Undo undo) {
            long sequence = piece.entry().sequence();
            if (piece instanceof Piece.Segment) {
                if (entriesRemoved.add(sequence)) {
                    undo.entries.add(sequence);
                }
                return;
            }
            Set<PartitionId> leaving = walRemovals.computeIfAbsent(sequence, s -> new HashSet<>());
            if (leaving.add(partition)) {
                undo.wal.add(new Object[] {sequence, partition});
            }
        }

        /** Undoes what one attempt added, when it did not fit. */
        private final class Undo {
            final List<Long> entries = new ArrayList<>();
            final List<Object[]> wal = new ArrayList<>();
            Long cut;
            int builds;

            void apply() {
                entries.forEach(entriesRemoved::remove);
                for (Object[] w : wal) {
                    Set<PartitionId> leaving = walRemovals.get((Long) w[0]);
                    leaving.remove((PartitionId) w[1]);
                    if (leaving.isEmpty()) {
                        walRemovals.remove((Long) w[0]);
                    }
                }
                if (cut != null) {
                    segmentsCut.remove(cut);
                }
                for (int i = 0; i < builds; i++) {
                    Step.this.builds.remove(Step.this.builds.size() - 1);
                    buildPartitions.remove(buildPartitions.size() - 1);
                }
            }
        }

        /** The WAL entries this step rewrites (what they keep) and removes. */
        private List<List<ChunkRef>> kept() {
            List<List<ChunkRef>> kept = new ArrayList<>();
            walRemovals.forEach((sequence, leaving) -> kept.add(bySequence.get(sequence).chunks().stream()
                    .filter(c -> !leaving.contains(c.partition())).toList()));
            return kept;
        }

        boolean fits() {
            int rewrites = 0;
            long bytes = 64; // the state's envelope
            for (List<ChunkRef> k : kept()) {
                if (!k.isEmpty()) {
                    rewrites++;
                    bytes += 80 + k.size() * 64L;
                }
            }
            int replaced = walRemovals.size() + entriesRemoved.size() + segmentsCut.size();
            int ops = replaced + rewrites + segmentsCut.size() + builds.size() + 1;
            int guards = replaced + builds.size() + 2;
            bytes += (replaced + rewrites) * 80L + (segmentsCut.size() + builds.size()) * 240L
                    + snapshot.state().logStarts().size() * 24L;
            return ops <= maxOps && guards <= maxOps && bytes <= maxBytes;
        }

        ShardPlan.Step finish(Map<PartitionId, Long> logStarts, Map<PartitionId, KeyCleaning> cleanings,
                              Set<PartitionId> forgotten, int[] counts,
                              long expiredBytes, long mergedBytes) {
            long next = snapshot.state().nextSequence();
            Map<Long, Long> replaced = new LinkedHashMap<>();
            List<IndexEntry> rewritten = new ArrayList<>();
            for (Map.Entry<Long, Set<PartitionId>> w : walRemovals.entrySet()) {
                IndexEntry old = bySequence.get(w.getKey());
                replaced.put(old.sequence(), snapshot.modRevisions().get(old.sequence()));
                List<ChunkRef> keep = old.chunks().stream().filter(c -> !w.getValue().contains(c.partition())).toList();
                if (!keep.isEmpty()) {
                    // The same block's chunks under a new sequence: keys are never reused, and the commit time
                    // stays, so the chunks' age (for merging) is the block's.
                    rewritten.add(new IndexEntry(old.shard(), next++, old.objectKey(), old.committedAtMs(), keep));
                }
            }
            for (long sequence : entriesRemoved) {
                replaced.put(sequence, snapshot.modRevisions().get(sequence));
            }
            for (Map.Entry<Long, SegmentRef> c : segmentsCut.entrySet()) {
                IndexEntry old = bySequence.get(c.getKey());
                replaced.put(old.sequence(), snapshot.modRevisions().get(old.sequence()));
                rewritten.add(IndexEntry.segment(old.shard(), next++, old.committedAtMs(), c.getValue()));
            }
            List<SegmentBuild> segmentBuilds = new ArrayList<>();
            for (int i = 0; i < builds.size(); i++) {
                segmentBuilds.add(new SegmentBuild(buildPartitions.get(i), next++, builds.get(i)));
            }
            int before = snapshot.entries().size();
            int after = before - replaced.size() + rewritten.size() + segmentBuilds.size();
            return new ShardPlan.Step(replaced, rewritten, segmentBuilds, logStarts, cleanings, next + 1, forgotten,
                    new ShardPlan.StepSummary(counts[0], counts[1], expiredBytes, counts[2], mergedBytes, before,
                            after));
        }
    }

    /** Consecutive chunks in groups of at most {@code maxBytes} stored bytes (a chunk larger than that alone). */
    public static List<List<ChunkRef>> group(List<ChunkRef> chunks, long maxBytes) {
        List<List<ChunkRef>> groups = new ArrayList<>();
        List<ChunkRef> current = new ArrayList<>();
        long bytes = 0;
        for (ChunkRef c : chunks) {
            if (!current.isEmpty() && bytes + c.byteLength() > maxBytes) {
                groups.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(c);
            bytes += c.byteLength();
        }
        if (!current.isEmpty()) {
            groups.add(current);
        }
        return groups;
    }

    /** The encoded size of an entry (for callers that check a step against the store's request limit). */
    static int encodedSize(IndexEntry entry) {
        return MetadataCodec.encode(entry).length;
    }
}
