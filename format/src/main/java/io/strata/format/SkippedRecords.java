package io.strata.format;

import java.util.ArrayList;
import java.util.List;

/**
 * Which of a chunk's stored records got offsets. An idempotent producer's retried batch may be stored a
 * second time (objects are immutable) while its records keep the offsets of the first copy; the index
 * marks such stored positions as skipped, and every reader (fetch node or client) drops them the same way.
 */
public final class SkippedRecords {
    private SkippedRecords() {
    }

    /**
     * The stored records that have offsets, in order (the i-th of the answer has base offset + i).
     * {@code firstPositions[k]} and {@code counts[k]} describe the k-th skipped range, ascending and disjoint.
     *
     * @throws BlockFormatException when the chunk decoded to another count than the index says
     */
    public static <T> List<T> drop(List<T> stored, int storedRecordCount, int[] firstPositions, int[] counts) {
        if (stored.size() != storedRecordCount) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "chunk decoded to "
                    + stored.size() + " records, the index says " + storedRecordCount);
        }
        int[] index = offsetIndexes(storedRecordCount, firstPositions, counts);
        if (index == null) {
            return stored;
        }
        List<T> kept = new ArrayList<>(stored.size());
        for (int position = 0; position < stored.size(); position++) {
            if (index[position] >= 0) {
                kept.add(stored.get(position));
            }
        }
        return kept;
    }

    /**
     * For each stored position, the index of its offset among the chunk's (base offset + index), or -1 for a
     * skipped record; null when nothing is skipped (every position is its own index).
     *
     * @throws BlockFormatException when the ranges are out of order, overlap or pass the chunk's end
     */
    public static int[] offsetIndexes(int storedRecordCount, int[] firstPositions, int[] counts) {
        if (firstPositions.length == 0) {
            return null;
        }
        if (storedRecordCount < 0 || firstPositions.length != counts.length) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "skipped ranges of a chunk of "
                    + storedRecordCount + " records");
        }
        int[] index = new int[storedRecordCount];
        int position = 0;
        int next = 0;
        for (int k = 0; k <= firstPositions.length; k++) {
            int skipFrom = k < firstPositions.length ? firstPositions[k] : storedRecordCount;
            int skipTo = k < firstPositions.length ? skipFrom + counts[k] : storedRecordCount;
            if (skipFrom < position || skipTo < skipFrom || skipTo > storedRecordCount) {
                throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "skipped range @"
                        + skipFrom + "+" + (skipTo - skipFrom) + " is out of order or past the chunk's end");
            }
            for (; position < skipFrom; position++) {
                index[position] = next++;
            }
            for (; position < skipTo; position++) {
                index[position] = -1;
            }
        }
        return index;
    }
}
