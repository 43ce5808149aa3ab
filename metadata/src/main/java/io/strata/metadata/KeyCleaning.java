package io.strata.metadata;

/**
 * Where key compaction left a partition: every record below {@code cleanedTo} went through a cleaning (at
 * most the latest record per key remains there), and {@code oldestTombstoneMs} is the timestamp of the oldest
 * tombstone that cleaning kept ({@link Long#MAX_VALUE} when it kept none), so the next cleaning is due when
 * that tombstone's delete retention ends, however little new data came.
 */
public record KeyCleaning(long cleanedTo, long oldestTombstoneMs) {
    public static final long NO_TOMBSTONE = Long.MAX_VALUE;
    public static final KeyCleaning NEVER = new KeyCleaning(0, NO_TOMBSTONE);

    public KeyCleaning {
        if (cleanedTo < 0) {
            throw new IllegalArgumentException("cleaned to " + cleanedTo);
        }
    }

    /** Whether a tombstone kept by the last cleaning may now be dropped. */
    public boolean tombstoneDue(long deleteRetentionMs, long now) {
        return oldestTombstoneMs != NO_TOMBSTONE && oldestTombstoneMs <= now - deleteRetentionMs;
    }
}
