package io.strata.compaction.plan;

import io.strata.compaction.CompactionSettings;
import io.strata.format.SegmentChunk;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.KeyCleaning;
import io.strata.metadata.SegmentRef;
import io.strata.metadata.Topic;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whether and how far to clean a partition of a key-compacted topic. Pure.
 *
 * <p>A cleaning works on the partition's merged part only (its leading segments: WAL chunks younger than
 * {@code min-age} wait, as Kafka's active segment does), from its log start. It is due when the bytes new
 * since the last cleaning (in segments ending past {@link KeyCleaning#cleanedTo}) are at least
 * {@code minCleanableRatio} of the merged bytes, so each byte is rewritten about 1 / (1 - ratio) times, or
 * when a tombstone the last cleaning kept has outlived the topic's {@code delete.retention.ms}. It covers the
 * segments with new records from the first on, as many as one transaction replaces and with no more new
 * records than the key map holds (a segment's record count bounds its keys; at least one segment), and
 * the cleaned segments right before them up to the transaction's limit.
 */
public final class CleaningPolicy {
    /** Key map bytes per key: 24-byte slots at a load factor of 3/4. */
    public static final int KEY_MAP_BYTES_PER_KEY = 32;

    private CleaningPolicy() {
    }

    /**
     * The cleaning to do now, or null (also when a footer it needs is missing: it is added to {@code needed}).
     *
     * @param maxSegments the most segments one cleaning may replace (its transaction's limit)
     */
    public static ShardPlan.Clean plan(PartitionLog log, Topic topic, KeyCleaning cleaning, long now,
                                       CompactionSettings settings, int maxSegments, Map<Long, Long> modRevisions,
                                       Footers footers, Set<SegmentRef> needed) {
        if (!topic.cleanupPolicy().compacts() || !log.contiguous()) {
            return null;
        }
        List<Piece.Segment> merged = new ArrayList<>();
        for (Piece piece : log.pieces()) {
            if (!(piece instanceof Piece.Segment segment)) {
                break;
            }
            merged.add(segment);
        }
        if (merged.isEmpty()) {
            return null;
        }
        long total = 0;
        long dirty = 0;
        for (Piece.Segment s : merged) {
            total += s.storedBytes();
            dirty += s.endOffset() > cleaning.cleanedTo() ? s.storedBytes() : 0;
        }
        boolean tombstonesDue = cleaning.tombstoneDue(topic.deleteRetentionMs(), now);
        if (!tombstonesDue && (dirty == 0 || dirty < settings.minCleanableRatio() * total)) {
            return null;
        }
        long maxKeys = Math.max(1, settings.keyMapBytes() / KEY_MAP_BYTES_PER_KEY);
        int firstDirty = 0;
        while (firstDirty < merged.size() && merged.get(firstDirty).endOffset() <= cleaning.cleanedTo()) {
            firstDirty++;
        }
        // The window: from the first segment with new records on, as many as the key map and one transaction
        // take, then clean segments before them up to the transaction's limit. Records before the window stay
        // as they are (at least each key's latest is kept either way); a partition whose cleaned part is
        // longer than one transaction does not rewrite the same front segments again and again.
        int to = firstDirty;
        long keys = 0;
        while (to < merged.size() && to - firstDirty < maxSegments) {
            long newRecords = merged.get(to).segment().recordCount();
            if (keys > 0 && keys + newRecords > maxKeys) {
                break;
            }
            keys += newRecords;
            to++;
        }
        if (to == firstDirty) { // nothing new: a due tombstone; clean from the front
            to = Math.min(merged.size(), maxSegments);
        }
        int from = Math.max(0, to - maxSegments);
        int count = to - from;
        List<Piece.Segment> cleaned = merged.subList(from, to);
        List<ChunkRef> sources = new ArrayList<>();
        Map<Long, Long> replaced = new LinkedHashMap<>();
        boolean missing = false;
        for (Piece.Segment s : cleaned) {
            List<SegmentChunk> live = footers.live(s.segment());
            if (live == null) {
                needed.add(s.segment());
                missing = true;
                continue;
            }
            live.forEach(c -> sources.add(ChunkRef.of(log.partition(), s.segment().objectKey(), c)));
            replaced.put(s.entry().sequence(), modRevisions.get(s.entry().sequence()));
        }
        if (missing) {
            return null;
        }
        long storedBytes = cleaned.stream().mapToLong(Piece::storedBytes).sum();
        return new ShardPlan.Clean(log.partition(), replaced, sources, Math.max(cleaning.cleanedTo(),
                cleaned.get(0).baseOffset()), cleaned.get(count - 1).endOffset(), Math.max(1, keys),
                now - topic.deleteRetentionMs(), storedBytes);
    }
}
