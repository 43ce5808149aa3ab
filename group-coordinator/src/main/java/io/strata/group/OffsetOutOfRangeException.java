package io.strata.group;

import io.strata.metadata.group.TopicPartition;

/** A commit outside the partition's stored range [log start, end]. */
public final class OffsetOutOfRangeException extends RuntimeException {
    private final TopicPartition partition;
    private final long logStart;
    private final long end;

    public OffsetOutOfRangeException(TopicPartition partition, long offset, long logStart, long end) {
        super("offset " + offset + " of " + partition + " is outside its range [" + logStart + ", " + end + "]");
        this.partition = partition;
        this.logStart = logStart;
        this.end = end;
    }

    public TopicPartition partition() {
        return partition;
    }

    /** The nearest offset of the partition's stored range to {@code offset}. */
    public long clamp(long offset) {
        return Math.max(logStart, Math.min(end, offset));
    }
}
