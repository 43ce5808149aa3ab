package io.strata.compaction.plan;

import io.strata.compaction.CompactionSettings;
import io.strata.format.BlockFormat;
import java.util.ArrayList;
import java.util.List;

/**
 * Which of a partition's pieces to merge into new segments. Pure.
 *
 * <ul>
 *   <li>WAL chunks committed longer ago than {@code minAge} (from the oldest, up to the first younger one) are
 *       merged, with the small segments right before them (below {@code smallSegmentBytes}): a slow partition
 *       rewrites at most that much per pass, and keeps one small segment rather than one per pass. Fewer than
 *       {@code smallSegmentBytes} of them wait until the oldest is {@code maxAge} old, so a slow partition
 *       costs a segment PUT per {@code maxAge}, not per pass.</li>
 *   <li>Segments larger than that merge by size tiers: {@code tierFanIn} consecutive segments of one tier
 *       (sizes within a factor of {@code tierFanIn}) become one of the next, so each byte is rewritten about
 *       log<sub>fan-in</sub>(segment size / small size) times. Segments of half the target size or more are
 *       full and never merged again.</li>
 *   <li>A segment that retention cut so far into that its dead front is at least its live part (and at least
 *       {@code smallSegmentBytes}) is rewritten alone: an object is deleted only once none of it is
 *       referenced, so without this a partition would keep up to a whole segment of expired bytes stored. The
 *       rewrite costs its live bytes, at most once per halving, so each byte is copied at most about twice.</li>
 * </ul>
 * A merge's output is cut into segments of at most {@code segmentBytes}.
 */
public final class MergePolicy {
    private MergePolicy() {
    }

    /** Pieces [from, to) of a partition, merged together. */
    public record Run(int from, int to) {
        public Run {
            if (from < 0 || to <= from) {
                throw new IllegalArgumentException("empty run " + from + ".." + to);
            }
        }
    }

    public static List<Run> runs(List<Piece> pieces, long now, CompactionSettings settings) {
        List<Run> runs = new ArrayList<>();
        int firstWal = 0;
        while (firstWal < pieces.size() && pieces.get(firstWal) instanceof Piece.Segment) {
            firstWal++;
        }
        int eligibleEnd = firstWal;
        long youngest = now - settings.minAge().toMillis();
        while (eligibleEnd < pieces.size() && pieces.get(eligibleEnd) instanceof Piece.Wal wal
                && wal.entry().committedAtMs() <= youngest) {
            eligibleEnd++;
        }
        if (eligibleEnd > firstWal && !tailDue(pieces.subList(firstWal, eligibleEnd), now, settings)) {
            eligibleEnd = firstWal; // a slow partition's few bytes wait for more, up to max-age
        }
        int tailStart = firstWal;
        if (eligibleEnd > firstWal) {
            while (tailStart > 0 && pieces.get(tailStart - 1).storedBytes() < settings.smallSegmentBytes()) {
                tailStart--;
            }
        }
        // Tiers among the segments before the tail: consecutive non-full segments of one tier, fan-in at a time.
        int i = 0;
        while (i < tailStart) {
            if (mostlyDead(pieces.get(i), settings)) {
                runs.add(new Run(i, i + 1));
                i++;
                continue;
            }
            int tier = tier(pieces.get(i).storedBytes(), settings);
            int j = i;
            while (j < tailStart && tier >= 0 && !mostlyDead(pieces.get(j), settings)
                    && tier(pieces.get(j).storedBytes(), settings) == tier) {
                j++;
            }
            if (tier < 0) {
                i++;
                continue;
            }
            for (int from = i; from + settings.tierFanIn() <= j; from += settings.tierFanIn()) {
                runs.add(new Run(from, from + settings.tierFanIn()));
            }
            i = j;
        }
        if (eligibleEnd > firstWal) {
            runs.add(new Run(tailStart, eligibleEnd));
        }
        return runs;
    }

    /** Whether WAL chunks past min-age are due: a small segment's worth of them, or the oldest past max-age. */
    static boolean tailDue(List<Piece> eligible, long now, CompactionSettings settings) {
        long bytes = eligible.stream().mapToLong(Piece::storedBytes).sum();
        return bytes >= settings.smallSegmentBytes()
                || eligible.get(0).entry().committedAtMs() <= now - settings.maxAge().toMillis();
    }

    /**
     * Whether the piece is a segment whose bytes before its first live chunk (retention cut them) are at least
     * its live bytes and at least the small segment size: worth rewriting alone.
     */
    public static boolean mostlyDead(Piece piece, CompactionSettings settings) {
        if (!(piece instanceof Piece.Segment s)) {
            return false;
        }
        long dead = s.segment().byteOffset() - BlockFormat.HEADER_SIZE;
        return dead >= s.segment().byteLength() && dead >= Math.max(1, settings.smallSegmentBytes());
    }

    /** The size tier of a segment: 0 below the small size, then one per factor of the fan-in; -1 when full. */
    static int tier(long bytes, CompactionSettings settings) {
        if (bytes >= settings.segmentBytes() / 2) {
            return -1;
        }
        long small = Math.max(1, settings.smallSegmentBytes());
        int tier = 0;
        for (long bound = small; bytes >= bound; bound *= settings.tierFanIn()) {
            tier++;
        }
        return tier;
    }
}
