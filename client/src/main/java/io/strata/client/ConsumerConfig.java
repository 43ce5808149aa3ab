package io.strata.client;

import java.time.Duration;

/**
 * Settings of a {@link Consumer}.
 *
 * @param maxBytes    soft limit on the record bytes of one fetch answer; 0 leaves it to the node
 * @param longPollCap the most one fetch waits at the end of a partition (the node caps it too); a poll
 *                    with a longer timeout simply asks again
 */
public record ConsumerConfig(int maxBytes, Duration longPollCap) {
    public static final ConsumerConfig DEFAULT = new ConsumerConfig(0, Duration.ofSeconds(30));

    public ConsumerConfig {
        if (maxBytes < 0 || longPollCap.isNegative()) {
            throw new IllegalArgumentException("maxBytes and longPollCap must not be negative");
        }
    }
}
