package io.strata.client;

import java.util.List;
import java.util.Objects;

/** A record as read from a partition. {@code key} is null when the record was sent without one. */
public record ConsumerRecord(String topic, int partition, long offset, long timestampMs, byte[] key, byte[] value,
                             List<RecordHeader> headers) {
    public ConsumerRecord {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(value, "value");
        headers = List.copyOf(headers);
    }
}
