package io.strata.group;

import io.strata.metadata.group.TopicPartition;

/** A commit outside the partition's stored range [log start, end]. */
public final class OffsetOutOfRangeException extends RuntimeException {
    public OffsetOutOfRangeException(TopicPartition partition, long offset, long logStart, long end) {
        super("offset " + offset + " of " + partition + " is outside its range [" + logStart + ", " + end + "]");
    }
}
