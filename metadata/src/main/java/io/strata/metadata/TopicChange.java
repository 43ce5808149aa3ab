package io.strata.metadata;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What {@code strata topics alter} changes on a live topic; absent values stay as they are. Retention values
 * of 0 or less mean no limit of that kind. A partition count only grows (or stays): a partition's records stay where
 * they are, so fewer partitions would lose them, and keyed records written before the change stay in the
 * partition the old count chose (as in Kafka).
 */
public record TopicChange(OptionalLong retentionMs, OptionalLong retentionBytes, Optional<CleanupPolicy> cleanupPolicy,
                          OptionalLong deleteRetentionMs, OptionalInt partitions) {
    public TopicChange {
        retentionMs = normalize(retentionMs);
        retentionBytes = normalize(retentionBytes);
        if (deleteRetentionMs.isPresent() && deleteRetentionMs.getAsLong() < 0) {
            throw new IllegalArgumentException("delete retention must not be negative");
        }
        if (partitions.isPresent() && (partitions.getAsInt() < 1 || partitions.getAsInt() > TopicConfig.MAX_PARTITIONS)) {
            throw new IllegalArgumentException("invalid partition count " + partitions.getAsInt() + ": must be 1 to "
                    + TopicConfig.MAX_PARTITIONS);
        }
    }

    /** A change of retention and cleanup that leaves the partition count alone. */
    public TopicChange(OptionalLong retentionMs, OptionalLong retentionBytes, Optional<CleanupPolicy> cleanupPolicy,
                       OptionalLong deleteRetentionMs) {
        this(retentionMs, retentionBytes, cleanupPolicy, deleteRetentionMs, OptionalInt.empty());
    }

    /** A change that only grows the topic to {@code count} partitions. */
    public static TopicChange partitions(int count) {
        return new TopicChange(OptionalLong.empty(), OptionalLong.empty(), Optional.empty(), OptionalLong.empty(),
                OptionalInt.of(count));
    }

    private static OptionalLong normalize(OptionalLong value) {
        return value.isPresent() ? OptionalLong.of(Math.max(-1, value.getAsLong())) : value;
    }

    public boolean isEmpty() {
        return retentionMs.isEmpty() && retentionBytes.isEmpty() && cleanupPolicy.isEmpty()
                && deleteRetentionMs.isEmpty() && partitions.isEmpty();
    }
}
