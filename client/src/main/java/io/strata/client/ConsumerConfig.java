package io.strata.client;

import java.time.Duration;

/**
 * Settings of a {@link Consumer}.
 *
 * @param maxBytes    soft limit on the record bytes of one fetch answer; 0 leaves it to the node
 * @param longPollCap with several partitions assigned and none holding records, each long-polling fetch
 *                    waits on one partition at most this long before the others are looked at again,
 *                    which bounds how late a record on another partition is noticed
 */
public record ConsumerConfig(int maxBytes, Duration longPollCap) {
    public static final ConsumerConfig DEFAULT = new ConsumerConfig(0, Duration.ofMillis(500));

    public ConsumerConfig {
        if (maxBytes < 0 || longPollCap.isNegative()) {
            throw new IllegalArgumentException("maxBytes and longPollCap must not be negative");
        }
    }
}
