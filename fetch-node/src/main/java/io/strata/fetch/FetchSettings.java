package io.strata.fetch;

import java.time.Duration;

/**
 * How a fetch node answers reads (the cache has its own settings, {@link io.strata.fetch.cache.ChunkCache.Settings}).
 *
 * @param defaultMaxBytes  record bytes per fetch answer when the request names none
 * @param maxMaxBytes      the most record bytes one answer may carry, whatever the request asks
 * @param maxWait          the longest a fetch may wait at the end of a partition
 * @param readAheadBytes   for a reader behind the end, how many bytes of records past its answer are loaded
 *                         into the cache before it asks (0: no read-ahead)
 */
public record FetchSettings(int defaultMaxBytes, int maxMaxBytes, Duration maxWait, long readAheadBytes) {
    public FetchSettings {
        if (defaultMaxBytes <= 0 || maxMaxBytes < defaultMaxBytes || maxWait.isNegative() || readAheadBytes < 0) {
            throw new IllegalArgumentException("inconsistent fetch settings");
        }
    }

    public static FetchSettings defaults() {
        return new FetchSettings(1 << 20, 16 << 20, Duration.ofSeconds(30), 8 << 20);
    }
}
