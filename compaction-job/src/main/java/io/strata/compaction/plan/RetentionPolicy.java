package io.strata.compaction.plan;

import io.strata.format.SegmentChunk;
import io.strata.metadata.SegmentRef;
import io.strata.metadata.Topic;
import java.util.List;
import java.util.Set;

/**
 * Where retention cuts a partition: the first unit it keeps, where a unit is a WAL chunk or one of a
 * segment's chunks, so the log start moves chunk by chunk even inside a segment. Pure.
 *
 * <ul>
 *   <li>By time: the units from the front whose newest record is older than {@code now - retention.ms}.</li>
 *   <li>By size: the units from the front while what stays is still at least {@code retention.bytes}; so a
 *       partition keeps at least the limit and at most the limit plus one unit.</li>
 * </ul>
 * Both apply when both are set; whichever cuts further wins. Whatever the topic's policy, the units wholly
 * before the partition's log start go too: a DeleteRecords call moved the start there at once, and no reader
 * is served below it. A segment is looked into (its footer) only when the cut falls inside it.
 */
public final class RetentionPolicy {
    private RetentionPolicy() {
    }

    /** The first position kept ({@link Position#START} when nothing expires); footers it lacks go in {@code needed}. */
    public static Position cut(PartitionLog log, Topic topic, long now, Footers footers, Set<SegmentRef> needed) {
        Position cut = byLogStart(log.pieces(), log.logStart(), footers, needed);
        if (!topic.cleanupPolicy().deletes()) {
            return cut;
        }
        if (topic.retentionMs() > 0) {
            cut = Position.max(cut, byTime(log.pieces(), now - topic.retentionMs(), footers, needed));
        }
        if (topic.retentionBytes() > 0) {
            cut = Position.max(cut, bySize(log.pieces(), log.storedBytes(), topic.retentionBytes(), footers, needed));
        }
        return cut;
    }

    /** The segment's live chunks; null, with the segment added to {@code needed}, when its footer is not at hand. */
    private static List<SegmentChunk> live(SegmentRef segment, Footers footers, Set<SegmentRef> needed) {
        List<SegmentChunk> live = footers.live(segment);
        if (live == null) {
            needed.add(segment);
        }
        return live;
    }

    /** The units that end at or before {@code logStart}; a unit holding it stays whole. */
    private static Position byLogStart(List<Piece> pieces, long logStart, Footers footers, Set<SegmentRef> needed) {
        for (int i = 0; i < pieces.size(); i++) {
            Piece piece = pieces.get(i);
            if (piece.endOffset() <= logStart) {
                continue;
            }
            if (piece instanceof Piece.Wal || piece.baseOffset() >= logStart) {
                return new Position(i, 0);
            }
            SegmentRef segment = ((Piece.Segment) piece).segment();
            List<SegmentChunk> live = live(segment, footers, needed);
            if (live == null) {
                return new Position(i, 0);
            }
            int skip = 0;
            while (skip < live.size() && live.get(skip).endOffset() <= logStart) {
                skip++;
            }
            return new Position(i, skip);
        }
        return new Position(pieces.size(), 0);
    }

    private static Position byTime(List<Piece> pieces, long cutoff, Footers footers, Set<SegmentRef> needed) {
        for (int i = 0; i < pieces.size(); i++) {
            Piece piece = pieces.get(i);
            if (piece instanceof Piece.Wal wal) {
                if (wal.chunk().maxTimestampMs() >= cutoff) {
                    return new Position(i, 0);
                }
                continue;
            }
            SegmentRef segment = ((Piece.Segment) piece).segment();
            if (segment.maxTimestampMs() < cutoff) {
                continue;
            }
            if (segment.minTimestampMs() >= cutoff) {
                return new Position(i, 0);
            }
            List<SegmentChunk> live = live(segment, footers, needed);
            if (live == null) {
                return new Position(i, 0);
            }
            int skip = 0;
            while (skip < live.size() && live.get(skip).entry().maxTimestampMs() < cutoff) {
                skip++;
            }
            return new Position(i, skip);
        }
        return new Position(pieces.size(), 0);
    }

    private static Position bySize(List<Piece> pieces, long total, long limit, Footers footers,
                                   Set<SegmentRef> needed) {
        long kept = total;
        for (int i = 0; i < pieces.size(); i++) {
            Piece piece = pieces.get(i);
            if (kept - piece.storedBytes() >= limit) {
                kept -= piece.storedBytes();
                continue;
            }
            if (piece instanceof Piece.Wal) {
                return new Position(i, 0);
            }
            SegmentRef segment = ((Piece.Segment) piece).segment();
            List<SegmentChunk> live = live(segment, footers, needed);
            if (live == null) {
                return new Position(i, 0);
            }
            int skip = 0;
            while (skip < live.size() - 1 && kept - live.get(skip).entry().byteLength() >= limit) {
                kept -= live.get(skip).entry().byteLength();
                skip++;
            }
            return new Position(i, skip);
        }
        return new Position(pieces.size(), 0);
    }

    /**
     * How far past its expiry the oldest record the partition still holds is (0 when none has expired):
     * retention's lag behind the clock.
     */
    public static long lagMs(PartitionLog log, Topic topic, long now) {
        if (!topic.cleanupPolicy().deletes() || topic.retentionMs() <= 0 || log.pieces().isEmpty()) {
            return 0;
        }
        Piece first = log.pieces().get(0);
        long newest = first instanceof Piece.Wal wal ? wal.chunk().maxTimestampMs()
                : ((Piece.Segment) first).segment().minTimestampMs();
        return Math.max(0, now - topic.retentionMs() - newest);
    }
}
