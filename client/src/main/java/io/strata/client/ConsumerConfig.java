package io.strata.client;

import java.time.Duration;

/**
 * Settings of a {@link Consumer}.
 *
 * @param maxBytes           soft limit on the record bytes of one fetch answer; 0 leaves it to the node
 * @param longPollCap        the most one fetch waits at the end of a partition (the node caps it too); a poll
 *                           with a longer timeout simply asks again
 * @param sessionTimeout     in a group: how long the member stays without heartbeats before its partitions
 *                           move (a crashed consumer's partitions wait this long); zero: the server's default
 * @param autoCommitInterval in a group: how often {@link Consumer#poll} commits the positions of records it
 *                           returned earlier; zero: only explicit commits (and on close)
 * @param fromEarliest       in a group: a partition the group never committed starts at its log start (true,
 *                           the default) or at its end
 * @param clientId           names the consumer in its group (shown by {@code strata groups describe})
 */
public record ConsumerConfig(int maxBytes, Duration longPollCap, Duration sessionTimeout, Duration autoCommitInterval,
                             boolean fromEarliest, String clientId) {
    public static final ConsumerConfig DEFAULT = new ConsumerConfig(0, Duration.ofSeconds(30), Duration.ZERO,
            Duration.ofSeconds(5), true, "strata-java");

    public ConsumerConfig {
        if (maxBytes < 0 || longPollCap.isNegative() || sessionTimeout.isNegative() || autoCommitInterval.isNegative()) {
            throw new IllegalArgumentException("sizes and durations must not be negative");
        }
        if (clientId == null || clientId.isEmpty()) {
            throw new IllegalArgumentException("a client id is not empty");
        }
    }

    public ConsumerConfig(int maxBytes, Duration longPollCap) {
        this(maxBytes, longPollCap, DEFAULT.sessionTimeout, DEFAULT.autoCommitInterval, DEFAULT.fromEarliest,
                DEFAULT.clientId);
    }

    public ConsumerConfig withSessionTimeout(Duration timeout) {
        return new ConsumerConfig(maxBytes, longPollCap, timeout, autoCommitInterval, fromEarliest, clientId);
    }

    public ConsumerConfig withAutoCommitInterval(Duration interval) {
        return new ConsumerConfig(maxBytes, longPollCap, sessionTimeout, interval, fromEarliest, clientId);
    }

    public ConsumerConfig withFromEarliest(boolean earliest) {
        return new ConsumerConfig(maxBytes, longPollCap, sessionTimeout, autoCommitInterval, earliest, clientId);
    }

    public ConsumerConfig withClientId(String id) {
        return new ConsumerConfig(maxBytes, longPollCap, sessionTimeout, autoCommitInterval, fromEarliest, id);
    }
}
