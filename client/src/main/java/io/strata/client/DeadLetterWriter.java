package io.strata.client;

import io.strata.format.DeadLetterHeaders;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Writes a classic consumer group's dead letters (docs/queues.md, "Dead-letter topics"): a record the application
 * gave up on goes to the group's dead-letter topic ({@code strata groups alter G --dead-letter-topic D}) with the
 * original's key, value and headers and {@code strata.dlq.*} headers saying where it came from and why, as share
 * groups' copies do. Write the copy, wait for it, then commit past the record: a member that stops in between
 * handles the record again when it comes back, and may write a second copy (at least once, as a classic group's
 * records are). A copy too large for a record goes without the original (reason {@code record-too-large}). The
 * group's settings are read again every 10 s. One per group and client ({@link StrataClient#deadLetters}), its
 * producer closed with the client. Thread-safe.
 */
public final class DeadLetterWriter {
    private static final long SETTINGS_MS = Duration.ofSeconds(10).toMillis();

    private final StrataClient client;
    private final String group;
    private Producer producer;
    private Groups.Settings settings;
    private long settingsReadAtMs;

    DeadLetterWriter(StrataClient client, String group) {
        this.client = client;
        this.group = group;
    }

    /** The group's settings, as read at most 10 s ago. */
    public synchronized Groups.Settings settings() {
        long now = System.currentTimeMillis();
        if (settings == null || now - settingsReadAtMs >= SETTINGS_MS) {
            settings = client.groups().settings(group);
            settingsReadAtMs = now;
        }
        return settings;
    }

    /**
     * Writes {@code record}'s copy to the group's dead-letter topic, saying it was tried {@code deliveries} times and
     * given up on for {@code reason} ({@code error}: what went wrong, may be empty).
     *
     * @return completes once the copy is stored; fails with IllegalStateException when the group names no
     *         dead-letter topic
     */
    public CompletableFuture<RecordMetadata> write(ConsumerRecord record, int deliveries, String reason, String error) {
        String topic;
        try {
            topic = settings().deadLetterTopic();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (topic == null || topic.isEmpty()) {
            return CompletableFuture.failedFuture(new IllegalStateException("group " + group + " has no dead-letter "
                    + "topic (strata groups alter " + group + " --dead-letter-topic TOPIC)"));
        }
        return send(topic, record, record.headers(), deliveries, reason, error, record.timestampMs(), true)
                .exceptionallyCompose(e -> {
                    StrataException f = StrataException.from(e);
                    // The copy, headers and all, is larger than a record may be: it goes without the record, saying
                    // so, as a share group's does.
                    return f.code() == io.grpc.Status.Code.INVALID_ARGUMENT
                            ? send(topic, record, List.of(), deliveries, "record-too-large", error, -1, false)
                            : CompletableFuture.failedFuture(e);
                });
    }

    private CompletableFuture<RecordMetadata> send(String topic, ConsumerRecord record, List<RecordHeader> original,
                                                   int deliveries, String reason, String error, long timestampMs,
                                                   boolean withRecord) {
        List<io.strata.format.RecordHeader> headers = DeadLetterHeaders.of(original.stream()
                        .map(h -> new io.strata.format.RecordHeader(h.key(), h.value())).toList(), record.topic(),
                record.partition(), record.offset(), group, deliveries, reason, error, timestampMs);
        return producer().send(topic, null, withRecord ? record.key() : null, withRecord ? record.value() : new byte[0],
                headers.stream().map(h -> new RecordHeader(h.key(), h.value())).toList(), 0);
    }

    private synchronized Producer producer() {
        if (producer == null) {
            producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ZERO));
        }
        return producer;
    }
}
