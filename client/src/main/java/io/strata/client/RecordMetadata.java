package io.strata.client;

/**
 * Where a sent record was stored. The offset is -1 when the node did not assign one: with acks=NONE, and for a
 * delayed record (it gets its offset when it is delivered). A half message (docs/transactions.md) has no offset
 * either until it is committed and delivered; {@code halfId} is what commits or rolls it back (null for any other
 * record).
 */
public record RecordMetadata(String topic, int partition, long offset, String halfId) {
    public RecordMetadata(String topic, int partition, long offset) {
        this(topic, partition, offset, null);
    }
}
