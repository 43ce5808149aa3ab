package io.strata.fetch;

import java.time.Duration;

/**
 * How a fetch node reads and caches.
 *
 * @param cacheMaxBytes    bytes of verified compressed chunks kept in memory
 * @param defaultMaxBytes  record bytes per fetch answer when the request names none
 * @param maxMaxBytes      the most record bytes one answer may carry, whatever the request asks
 * @param maxWait          the longest a fetch may wait at the end of a partition
 */
public record FetchSettings(long cacheMaxBytes, int defaultMaxBytes, int maxMaxBytes, Duration maxWait) {
    public FetchSettings {
        if (cacheMaxBytes <= 0 || defaultMaxBytes <= 0 || maxMaxBytes < defaultMaxBytes || maxWait.isNegative()) {
            throw new IllegalArgumentException("inconsistent fetch settings");
        }
    }

    public static FetchSettings defaults() {
        return new FetchSettings(256L << 20, 1 << 20, 16 << 20, Duration.ofSeconds(30));
    }
}
