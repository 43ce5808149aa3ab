package io.strata.transactions;

/**
 * A partition a transaction may have written to, and the lowest offset its records there can have: the
 * partition's end when the partition joined the transaction (its records come after). A read-committed reader
 * reads no further than this while the transaction is open.
 */
public record TxnPartition(long topicId, int partition, long startOffset) {
    public TxnPartition {
        if (partition < 0 || startOffset < 0) {
            throw new IllegalArgumentException("partition " + partition + " and start offset " + startOffset
                    + " are not negative");
        }
    }

    boolean samePartition(TxnPartition other) {
        return topicId == other.topicId && partition == other.partition;
    }
}
