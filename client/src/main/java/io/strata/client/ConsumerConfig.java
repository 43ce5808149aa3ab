package io.strata.client;

import java.time.Duration;
import java.util.List;

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
 * @param tags               only records whose {@code tag} header is one of these; empty: any record
 * @param filter             only records this expression over their headers holds for (docs/queues.md); empty:
 *                           any record. With tags or a filter the fetch node decides and sends only the records
 *                           that pass; the consumer's position (and its group's offsets) still moves past the rest.
 *                           A filter that does not parse fails the first poll with INVALID_ARGUMENT.
 * @param readCommitted      only records outside transactions and of committed ones (docs/transactions.md): reads
 *                           stop at each partition's last stable offset; false (the default, as Kafka's): every
 *                           record, those of open and aborted transactions too
 */
public record ConsumerConfig(int maxBytes, Duration longPollCap, Duration sessionTimeout, Duration autoCommitInterval,
                             boolean fromEarliest, String clientId, List<String> tags, String filter,
                             boolean readCommitted) {
    public static final ConsumerConfig DEFAULT = new ConsumerConfig(0, Duration.ofSeconds(30), Duration.ZERO,
            Duration.ofSeconds(5), true, "strata-java", List.of(), "", false);

    public ConsumerConfig {
        if (maxBytes < 0 || longPollCap.isNegative() || sessionTimeout.isNegative() || autoCommitInterval.isNegative()) {
            throw new IllegalArgumentException("sizes and durations must not be negative");
        }
        if (clientId == null || clientId.isEmpty()) {
            throw new IllegalArgumentException("a client id is not empty");
        }
        tags = List.copyOf(tags);
        filter = filter == null ? "" : filter;
    }

    public ConsumerConfig(int maxBytes, Duration longPollCap, Duration sessionTimeout, Duration autoCommitInterval,
                          boolean fromEarliest, String clientId) {
        this(maxBytes, longPollCap, sessionTimeout, autoCommitInterval, fromEarliest, clientId, List.of(), "", false);
    }

    public ConsumerConfig(int maxBytes, Duration longPollCap) {
        this(maxBytes, longPollCap, DEFAULT.sessionTimeout, DEFAULT.autoCommitInterval, DEFAULT.fromEarliest,
                DEFAULT.clientId);
    }

    public ConsumerConfig withSessionTimeout(Duration timeout) {
        return new ConsumerConfig(maxBytes, longPollCap, timeout, autoCommitInterval, fromEarliest, clientId, tags, filter,
                readCommitted);
    }

    public ConsumerConfig withAutoCommitInterval(Duration interval) {
        return new ConsumerConfig(maxBytes, longPollCap, sessionTimeout, interval, fromEarliest, clientId, tags, filter,
                readCommitted);
    }

    public ConsumerConfig withFromEarliest(boolean earliest) {
        return new ConsumerConfig(maxBytes, longPollCap, sessionTimeout, autoCommitInterval, earliest, clientId, tags,
                filter, readCommitted);
    }

    public ConsumerConfig withClientId(String id) {
        return new ConsumerConfig(maxBytes, longPollCap, sessionTimeout, autoCommitInterval, fromEarliest, id, tags, filter,
                readCommitted);
    }

    /** Only records tagged with one of these ({@code strata produce --tag}). */
    public ConsumerConfig withTags(List<String> wanted) {
        return new ConsumerConfig(maxBytes, longPollCap, sessionTimeout, autoCommitInterval, fromEarliest, clientId,
                wanted, filter, readCommitted);
    }

    /** Only records this expression over their headers holds for, e.g. {@code region = 'eu' AND level > 3}. */
    public ConsumerConfig withFilter(String expression) {
        return new ConsumerConfig(maxBytes, longPollCap, sessionTimeout, autoCommitInterval, fromEarliest, clientId, tags,
                expression, readCommitted);
    }

    /** Only committed records ({@code strata consume --isolation-level read_committed}). */
    public ConsumerConfig withReadCommitted(boolean committedOnly) {
        return new ConsumerConfig(maxBytes, longPollCap, sessionTimeout, autoCommitInterval, fromEarliest, clientId, tags,
                filter, committedOnly);
    }

    /** Whether records are filtered on the fetch node. */
    public boolean filtered() {
        return !tags.isEmpty() || !filter.isBlank();
    }
}
