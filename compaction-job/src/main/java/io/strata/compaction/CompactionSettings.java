package io.strata.compaction;

import java.time.Duration;

/**
 * How the compaction job works (docs/configuration.md, {@code strata.compaction.*} and {@code strata.gc.*}).
 *
 * @param interval          the pause between passes over every shard
 * @param minAge            WAL chunks committed longer ago than this are merged into segments
 * @param segmentBytes      the stored size segments are built up to
 * @param segmentChunkBytes the stored size of a segment's chunks (retention's granularity, a fetch's unit)
 * @param smallSegmentBytes segments below this are merged with the next new data at once; above it they
 *                          merge by tiers of {@code tierFanIn}
 * @param tierFanIn         how many segments of one size tier merge into one of the next
 * @param gcGrace           how long an object stays after nothing references it (readers may still hold the
 *                          old entries), and how old an object never referenced must be to be collected
 * @param historyKeep       metadata revision history kept (a watch that falls further behind reads again)
 * @param lockTtl           a worker's lease: work it held is free again this long after it stopped
 * @param compressionLevel  zstd level for the batches compaction builds again
 * @param maxStepsPerShard  guarded swaps one shard gets per pass (the rest waits for the next pass)
 * @param keyMapBytes       memory for the key map of one key-compaction cleaning (about 24 bytes per key):
 *                          a cleaning covers as many new records as it holds, the rest waits for the next
 * @param minCleanableRatio a key-compacted partition is cleaned when at least this share of its merged bytes
 *                          is new since its last cleaning (or a tombstone it kept is due)
 * @param maxAge            a partition with less than {@code smallSegmentBytes} of WAL chunks past
 *                          {@code minAge} waits until the oldest is this old: a slow partition then costs one
 *                          segment PUT per {@code maxAge}, not one per pass (S3 bills every PUT)
 * @param producerStateExpiry an idempotent producer that wrote nothing to a partition for this long is
 *                          dropped from the producer snapshots compaction writes (Kafka's
 *                          {@code producer.id.expiration.ms}); one that then writes again gets a precise
 *                          error unless it starts afresh
 */
public record CompactionSettings(Duration interval, Duration minAge, long segmentBytes, int segmentChunkBytes,
                                 long smallSegmentBytes, int tierFanIn, Duration gcGrace, Duration historyKeep,
                                 Duration lockTtl, int compressionLevel, int maxStepsPerShard, long keyMapBytes,
                                 double minCleanableRatio, Duration maxAge, Duration producerStateExpiry) {
    /** Kafka's {@code producer.id.expiration.ms}: one day. */
    public static final Duration DEFAULT_PRODUCER_STATE_EXPIRY = Duration.ofDays(1);

    /**
     * How long a condemned object's marker outlives the object's upload: twice the oldest block a commit takes
     * ({@code ShardCommitter.MAX_COMMIT_AGE}), so a commit that would index a deleted object finds the marker, or
     * finds its block too old. A commit paused between its read and its transaction for longer (a node stopped,
     * not dead) fails its guard on the key every removal of markers rewrites, and reads again.
     */
    public static final Duration COMMIT_WINDOW = Duration.ofMinutes(10);

    public CompactionSettings {
        if (interval.isNegative() || interval.isZero() || minAge.isNegative() || segmentBytes < 1 << 20
                || segmentChunkBytes < 1024 || segmentChunkBytes > segmentBytes || smallSegmentBytes < 0
                || tierFanIn < 2 || gcGrace.isNegative() || historyKeep.isNegative() || lockTtl.toSeconds() < 1
                || maxStepsPerShard < 1 || keyMapBytes < 1 << 16 || !(minCleanableRatio > 0)
                || minCleanableRatio > 1 || maxAge.compareTo(minAge) < 0 || producerStateExpiry.toMillis() < 1) {
            throw new IllegalArgumentException("inconsistent compaction settings");
        }
    }

    /** Settings that keep idle producers' state for {@link #DEFAULT_PRODUCER_STATE_EXPIRY}. */
    public CompactionSettings(Duration interval, Duration minAge, long segmentBytes, int segmentChunkBytes,
                              long smallSegmentBytes, int tierFanIn, Duration gcGrace, Duration historyKeep,
                              Duration lockTtl, int compressionLevel, int maxStepsPerShard, long keyMapBytes,
                              double minCleanableRatio, Duration maxAge) {
        this(interval, minAge, segmentBytes, segmentChunkBytes, smallSegmentBytes, tierFanIn, gcGrace, historyKeep,
                lockTtl, compressionLevel, maxStepsPerShard, keyMapBytes, minCleanableRatio, maxAge,
                DEFAULT_PRODUCER_STATE_EXPIRY);
    }

    /** Settings that merge every partition's WAL chunks as soon as they are past {@code minAge}, however few. */
    public CompactionSettings(Duration interval, Duration minAge, long segmentBytes, int segmentChunkBytes,
                              long smallSegmentBytes, int tierFanIn, Duration gcGrace, Duration historyKeep,
                              Duration lockTtl, int compressionLevel, int maxStepsPerShard, long keyMapBytes,
                              double minCleanableRatio) {
        this(interval, minAge, segmentBytes, segmentChunkBytes, smallSegmentBytes, tierFanIn, gcGrace, historyKeep,
                lockTtl, compressionLevel, maxStepsPerShard, keyMapBytes, minCleanableRatio, minAge);
    }

    /** The defaults of a server's compaction role (docs/benchmarks.md says why these). */
    public static CompactionSettings defaults() {
        return new CompactionSettings(Duration.ofSeconds(30), Duration.ofMinutes(2), 128L << 20, 512 << 10, 1L << 20,
                4, Duration.ofMinutes(10), Duration.ofMinutes(5), Duration.ofSeconds(15), 3, 20, 32L << 20, 0.5,
                Duration.ofMinutes(8));
    }
}
