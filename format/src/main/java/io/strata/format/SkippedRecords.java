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
        if (firstPositions.length == 0) {
            return stored;
        }
        List<T> kept = new ArrayList<>(stored.size());
        int next = 0;
        for (int k = 0; k < firstPositions.length; k++) {
            if (firstPositions[k] < next || firstPositions[k] + counts[k] > stored.size()) {
                throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "skipped range @"
                        + firstPositions[k] + "+" + counts[k] + " is out of order or past the chunk's end");
            }
            kept.addAll(stored.subList(next, firstPositions[k]));
            next = firstPositions[k] + counts[k];
        }
        kept.addAll(stored.subList(next, stored.size()));
        return kept;
    }
}
