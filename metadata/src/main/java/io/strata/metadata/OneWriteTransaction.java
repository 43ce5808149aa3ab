package io.strata.metadata;

/**
 * A transaction whose records and commit are stored by one metadata write: a produce request that holds the
 * whole of a producer's next transaction (docs/transactions.md, "A transaction in one write"). Its batches go into
 * a block as any transactional batch; the shard commit that stores them also writes the transactional id's record
 * as committed, guarded by the record's revision as read when the request was taken. The transaction is never
 * seen open: read-committed readers see its records the moment they are stored, and a newer producer of the id
 * (its record moved since) fences all of them, or none is stored at all.
 *
 * @param transactionalId  the id whose record is written
 * @param producerId       the producer id the transaction's batches carry
 * @param txnEpoch         the transaction epoch they carry
 * @param expectedRevision the record's revision as the decision read it
 * @param committedRecord  the record as committed (what the transaction coordinator's decisions give)
 */
public record OneWriteTransaction(String transactionalId, long producerId, long txnEpoch, long expectedRevision,
                                  byte[] committedRecord) {
    /**
     * Partitions a transaction in one write touches at most; one over it takes the two-step path. Its shards and
     * those of the other such transactions of its block go into one metadata transaction, which holds about 128
     * operations (etcd's default; a head, an entry and the record per shard and transaction).
     */
    public static final int MAX_PARTITIONS = 16;
    /** Partitions the transactions in one write of one block touch at most together: a block is sealed before. */
    public static final int MAX_PARTITIONS_PER_BLOCK = 40;
    /**
     * Transactions in one write a block holds at most (each puts its record in the block's metadata transaction,
     * besides a head and an entry per shard): a block is sealed before.
     */
    public static final int MAX_PER_BLOCK = 24;

    public OneWriteTransaction {
        if (transactionalId == null || transactionalId.isEmpty() || producerId <= 0 || txnEpoch <= 0
                || expectedRevision <= 0 || committedRecord == null) {
            throw new IllegalArgumentException("invalid one-write transaction of " + transactionalId);
        }
    }

    /** Whether a batch of ({@code producerId}, {@code txnEpoch}) belongs to it. */
    public boolean holds(long producerId, long txnEpoch) {
        return this.producerId == producerId && this.txnEpoch == txnEpoch;
    }
}
