package io.strata.compaction.plan;

import io.strata.compaction.CompactionSettings;
import io.strata.format.SegmentChunk;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.KeyCleaning;
import io.strata.metadata.ProducerAppend;
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
 * {@code min-age} wait, as Kafka's active segment does), as many segments as one swap replaces. It is due when
 * the bytes new since the last cleaning (in segments ending past {@link KeyCleaning#cleanedTo}) are at least
 * {@code minCleanableRatio} of the merged bytes, so each byte is rewritten about 1 / (1 - ratio) times, when
 * a tombstone the last cleaning kept has outlived the topic's {@code delete.retention.ms}, or when records
 * cleaned but not yet compared with the whole log before them ({@link KeyCleaning#comparedTo}) can now be.
 *
 * <p>Where the part not yet compared starts within one swap of the log's start, and a cleaning from there
 * takes in every new record a window would, the cleaning reads from the log's start and maps the keys from
 * {@code comparedTo} on, as many segments as the key map holds (a segment's record count bounds its keys; at
 * least one): every record it keeps there then has no older copy of its key left anywhere, so a tombstone
 * among them may go once its delete retention is over. A due tombstone brings a cleaning from the start too,
 * mapping only what is new within it. Otherwise, a log longer than one swap is cleaned as a window: the segments with new records from the first on,
 * as many as the key map holds, and the cleaned segments right before them up to the swap's limit. Records
 * before the window keep older copies of the window's keys, so its tombstones stay (nothing deleted can come
 * back), and so does {@code comparedTo}.
 *
 * <p>Transactions: the part cleaned ends where read-committed readers are held (a transaction still open), and
 * records of aborted transactions go (they never replace a committed value of their key).
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
                                       Footers footers, Set<SegmentRef> needed, TransactionView transactions) {
        if (!topic.cleanupPolicy().compacts() || !log.contiguous()) {
            return null;
        }
        List<Piece.Segment> merged = new ArrayList<>();
        long stableEnd = transactions.stableEnd(log.partition());
        for (Piece piece : log.pieces()) {
            // Nothing at or past where read-committed readers are held: a transaction still open may end either
            // way, so its records neither go nor make others go yet, and the records before them must stay what
            // those readers see (Kafka cleans nothing past the first unstable offset either). A batch whose
            // transaction cannot be told (its record does not read) counts as open.
            if (!(piece instanceof Piece.Segment segment) || segment.endOffset() > stableEnd
                    || transactional(segment).anyMatch(transactions::open)) {
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
        long maxKeys = Math.max(1, settings.keyMapBytes() / KEY_MAP_BYTES_PER_KEY);
        int firstDirty = firstEndingAfter(merged, cleaning.cleanedTo());
        int firstUncompared = firstEndingAfter(merged, cleaning.comparedTo());
        // The window takes the segments with new records from the first on, as many as the key map and one
        // transaction take. A cleaning from the log's start maps from the first record not compared yet, up to
        // the transaction's limit: it is chosen only where it takes in every new record the window would, so it
        // rewrites no more than the window (with the cleaned segments before it) would.
        int windowTo = mapped(merged, firstDirty, firstDirty + maxSegments, maxKeys);
        int startTo = firstUncompared < Math.min(merged.size(), maxSegments)
                ? mapped(merged, firstUncompared, maxSegments, maxKeys) : -1;
        boolean fromStart = startTo > firstUncompared && startTo >= windowTo;
        boolean behind = cleaning.comparedTo() < cleaning.cleanedTo();
        if (!tombstonesDue && !(fromStart && behind)
                && (dirty == 0 || dirty < settings.minCleanableRatio() * total)) {
            return null;
        }
        int from;
        int to;
        long mapFrom;
        if (fromStart) {
            // Every key not yet compared with all before it is mapped: those kept are then.
            from = 0;
            to = startTo;
            mapFrom = cleaning.comparedTo();
        } else if (tombstonesDue) {
            // Tombstones that may go lie below comparedTo, which a cleaning from the start set within one
            // transaction of the start; later cleanings do not add segments before it (a cleaning's segments are
            // as full as its sources, bar the last). So a cleaning from the start finds them, with what is new
            // in reach mapped too, and counts the tombstones left exactly: no due tombstone is forgotten, and
            // none makes every pass clean again.
            from = 0;
            to = Math.min(merged.size(), maxSegments);
            if (firstDirty < to) {
                to = mapped(merged, firstDirty, to, maxKeys);
            }
            mapFrom = cleaning.cleanedTo();
        } else {
            // The cleaned segments before the window up to the transaction's limit are cleaned with it. A
            // partition whose compared part is longer than one transaction does not rewrite the same front
            // segments again and again.
            to = windowTo;
            from = Math.max(0, to - maxSegments);
            mapFrom = cleaning.cleanedTo();
        }
        int count = to - from;
        long keys = 0;
        for (Piece.Segment s : merged.subList(Math.min(firstEndingAfter(merged, mapFrom), to), to)) {
            keys += s.segment().recordCount();
        }
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
        List<ProducerAppend> aborted = cleaned.stream().flatMap(CleaningPolicy::transactional)
                .filter(transactions::aborted).toList();
        long storedBytes = cleaned.stream().mapToLong(Piece::storedBytes).sum();
        long cleanEnd = cleaned.get(count - 1).endOffset();
        // A cleaning of old segments alone (a due tombstone) may end below where the last one reached.
        long cleanedTo = Math.max(cleanEnd, cleaning.cleanedTo());
        return new ShardPlan.Clean(log.partition(), replaced, sources, Math.max(mapFrom, cleaned.get(0).baseOffset()),
                cleanEnd, Math.max(1, keys), now - topic.deleteRetentionMs(), storedBytes, cleaning.comparedTo(),
                cleanedTo, fromStart ? Math.max(cleanEnd, cleaning.comparedTo()) : cleaning.comparedTo(), aborted,
                from == 0 ? KeyCleaning.NO_TOMBSTONE : cleaning.oldestTombstoneMs());
    }

    /** The transactions' batches among the segment's records that readers may have to leave out. */
    private static java.util.stream.Stream<ProducerAppend> transactional(Piece.Segment segment) {
        return segment.entry().appends().stream().filter(ProducerAppend::transactional);
    }

    /**
     * The end (exclusive index) of the segments from {@code start} whose keys the map takes: at least one, and
     * none at or past {@code limit}, with a segment's record count bounding its keys.
     */
    private static int mapped(List<Piece.Segment> merged, int start, int limit, long maxKeys) {
        int to = start;
        long keys = 0;
        while (to < merged.size() && to < limit) {
            long newRecords = merged.get(to).segment().recordCount();
            if (keys > 0 && keys + newRecords > maxKeys) {
                break;
            }
            keys += newRecords;
            to++;
        }
        return to;
    }

    /** The index of the first segment ending past {@code offset} ({@code segments.size()} when none does). */
    private static int firstEndingAfter(List<Piece.Segment> segments, long offset) {
        int i = 0;
        while (i < segments.size() && segments.get(i).endOffset() <= offset) {
            i++;
        }
        return i;
    }
}
