package io.strata.client;

/**
 * Where a sent record was stored. The offset is -1 when the node did not assign one: with acks=NONE, and for a
 * delayed record (it gets its offset when it is delivered).
 */
public record RecordMetadata(String topic, int partition, long offset) {
}
