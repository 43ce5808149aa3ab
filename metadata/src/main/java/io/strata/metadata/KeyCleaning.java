package io.strata.metadata;

/**
 * Where key compaction left a partition.
 *
 * <ul>
 *   <li>Every record below {@code cleanedTo} went through a cleaning: within the window that cleaning read, at
 *       most the latest record of each key remains.</li>
 *   <li>Every record below {@code comparedTo} (at most {@code cleanedTo}) was also compared with every record
 *       before it, from the log's start: no older record of its key remains anywhere. Only a tombstone below
 *       it may go, since only there is no older value left behind it to come back. Only a cleaning that reads
 *       from the log's start and maps the keys from here on moves it; any other moves {@code cleanedTo}
 *       only.</li>
 *   <li>{@code oldestTombstoneMs} is the timestamp of the oldest tombstone below {@code comparedTo} the last
 *       cleaning kept ({@link Long#MAX_VALUE} when it kept none), so the next cleaning is due when that
 *       tombstone's delete retention ends, however little new data came.</li>
 * </ul>
 */
public record KeyCleaning(long cleanedTo, long oldestTombstoneMs, long comparedTo) {
    public static final long NO_TOMBSTONE = Long.MAX_VALUE;
    public static final KeyCleaning NEVER = new KeyCleaning(0, NO_TOMBSTONE, 0);

    public KeyCleaning {
        if (cleanedTo < 0 || comparedTo < 0 || comparedTo > cleanedTo) {
            throw new IllegalArgumentException("cleaned to " + cleanedTo + ", compared to " + comparedTo);
        }
    }

    /** Whether a tombstone kept by the last cleaning may now be dropped. */
    public boolean tombstoneDue(long deleteRetentionMs, long now) {
        return oldestTombstoneMs != NO_TOMBSTONE && oldestTombstoneMs <= now - deleteRetentionMs;
    }
}
