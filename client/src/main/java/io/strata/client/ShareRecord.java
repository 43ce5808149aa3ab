package io.strata.client;

import java.util.List;
import java.util.Objects;

/**
 * A record a {@link ShareConsumer} acquired: its member holds it until it answers (accept, release, reject)
 * or its lock runs out. {@code deliveryCount} is 1 the first time the group hands it out.
 */
public record ShareRecord(String topic, int partition, long offset, int deliveryCount, long timestampMs, byte[] key,
                          byte[] value, List<RecordHeader> headers) {
    public ShareRecord {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(value, "value");
        headers = List.copyOf(headers);
    }
}
