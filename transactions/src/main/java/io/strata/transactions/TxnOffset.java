package io.strata.transactions;

import java.util.Objects;

/**
 * A consumer group's position a transaction commits along with its records (Kafka's sendOffsetsToTransaction),
 * reached by group member {@code memberId} while it owned the partition since revision {@code ownerEpoch} (the
 * partition lease's epoch): the commit writes it only while that ownership stands, and aborts otherwise.
 */
public record TxnOffset(String group, String topic, long topicId, int partition, long offset, String metadata,
                        String memberId, long ownerEpoch) {
    /** The most characters of an offset's metadata, as Kafka's offset.metadata.max.bytes. */
    public static final int MAX_METADATA_LENGTH = 4096;

    public TxnOffset {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(memberId, "memberId");
        if (metadata.length() > MAX_METADATA_LENGTH || ownerEpoch < 0) {
            throw new IllegalArgumentException("an offset's metadata is at most " + MAX_METADATA_LENGTH
                    + " characters, and its ownership epoch not negative");
        }
        if (partition < 0 || offset < 0) {
            throw new IllegalArgumentException("partition " + partition + " and offset " + offset
                    + " are not negative");
        }
    }

    /** A position of no member's ownership (tests of the pure decisions). */
    public TxnOffset(String group, String topic, long topicId, int partition, long offset, String metadata) {
        this(group, topic, topicId, partition, offset, metadata, "", 0);
    }

    boolean samePosition(TxnOffset other) {
        return group.equals(other.group) && topicId == other.topicId && partition == other.partition;
    }
}
