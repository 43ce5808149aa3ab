package io.strata.queues.delay;

import java.util.Comparator;

/**
 * A delayed record waiting for its time: when it is due, where it was staged (its offset in the staging log,
 * unique there), and the record itself, encoded by the caller. Entries are delivered in {@link #ORDER}: by due
 * time, and among records due at the same millisecond in the order they were staged. Immutable (the bytes are
 * not copied: callers do not change them).
 */
public record DelayedEntry(long dueMs, long offset, byte[] record) {
    /** Due time, then staging offset: a total order, so every node plans the same deliveries. */
    public static final Comparator<DelayedEntry> ORDER = Comparator.comparingLong(DelayedEntry::dueMs)
            .thenComparingLong(DelayedEntry::offset);

    public DelayedEntry {
        if (dueMs < 0 || offset < 0 || record == null) {
            throw new IllegalArgumentException("a delayed entry has a due time, an offset and a record");
        }
    }
}
