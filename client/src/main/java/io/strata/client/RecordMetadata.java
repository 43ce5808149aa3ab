package io.strata.client;

/** Where a sent record was stored. The offset is -1 only when the node did not assign one (acks=NONE). */
public record RecordMetadata(String topic, int partition, long offset) {
}
