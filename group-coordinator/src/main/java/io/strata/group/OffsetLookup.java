package io.strata.group;

import java.util.concurrent.CompletableFuture;

/** Finds offsets by time, which needs the index and the records (the fetch role has both). */
@FunctionalInterface
public interface OffsetLookup {
    /** The offset of the partition's first record at or after {@code timestampMs}; its end when there is none. */
    CompletableFuture<Long> offsetForTimestamp(String topic, int partition, long timestampMs);
}
