package io.strata.transactions;

import java.util.Objects;

/** A consumer group's position a transaction commits along with its records (Kafka's sendOffsetsToTransaction). */
public record TxnOffset(String group, String topic, long topicId, int partition, long offset, String metadata) {
    public TxnOffset {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(metadata, "metadata");
        if (partition < 0 || offset < 0) {
            throw new IllegalArgumentException("partition " + partition + " and offset " + offset
                    + " are not negative");
        }
    }

    boolean samePosition(TxnOffset other) {
        return group.equals(other.group) && topicId == other.topicId && partition == other.partition;
    }
}
