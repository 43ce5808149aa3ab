package io.strata.metadata;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * What {@code strata topics alter} changes on a live topic; absent values stay as they are. Retention values
 * of 0 or less mean no limit of that kind.
 */
public record TopicChange(OptionalLong retentionMs, OptionalLong retentionBytes, Optional<CleanupPolicy> cleanupPolicy,
                          OptionalLong deleteRetentionMs) {
    public TopicChange {
        retentionMs = normalize(retentionMs);
        retentionBytes = normalize(retentionBytes);
        if (deleteRetentionMs.isPresent() && deleteRetentionMs.getAsLong() < 0) {
            throw new IllegalArgumentException("delete retention must not be negative");
        }
    }

    private static OptionalLong normalize(OptionalLong value) {
        return value.isPresent() ? OptionalLong.of(Math.max(-1, value.getAsLong())) : value;
    }

    public boolean isEmpty() {
        return retentionMs.isEmpty() && retentionBytes.isEmpty() && cleanupPolicy.isEmpty()
                && deleteRetentionMs.isEmpty();
    }
}
