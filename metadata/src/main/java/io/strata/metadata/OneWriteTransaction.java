package io.strata.metadata;

/**
 * A transaction whose records and commit are stored by one metadata write: a produce request that holds the
 * whole of a producer's next transaction (docs/transactions.md, "A transaction in one write"). Its batches go into
 * a block as any transactional batch; the shard commit that stores them also writes the transactional id's record
 * as committed, guarded by the record's revision as read when the request was taken. The transaction is never
 * seen open: read-committed readers see its records the moment they are stored, and a newer producer of the id
 * (its record moved since) fences all of them, or none is stored at all.
 *
 * <p>A producer's next transaction may be decided while its last one is still on its way to the store (a
 * pipelined producer): it is then <em>chained</em> to it, guarded by the record holding exactly what the last
 * one's write puts there ({@code predecessorRecord}) instead of by a revision, which that write has not got yet.
 * So it is stored only after its predecessor was, and never when that one was not. A chained transaction goes into
 * a later block than its predecessor, and is committed in a later metadata transaction.
 *
 * @param transactionalId   the id whose record is written
 * @param producerId        the producer id the transaction's batches carry
 * @param txnEpoch          the transaction epoch they carry
 * @param expectedRevision  the record's revision as the decision read it; 0 for a chained transaction
 * @param committedRecord   the record as committed (what the transaction coordinator's decisions give)
 * @param predecessorRecord for a chained transaction, the record as its predecessor commits it; null otherwise
 */
public record OneWriteTransaction(String transactionalId, long producerId, long txnEpoch, long expectedRevision,
                                  byte[] committedRecord, byte[] predecessorRecord) {
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
                || (predecessorRecord == null) != (expectedRevision > 0) || expectedRevision < 0
                || committedRecord == null) {
            throw new IllegalArgumentException("invalid one-write transaction of " + transactionalId);
        }
    }

    /** A transaction decided on the record as read at {@code expectedRevision}. */
    public OneWriteTransaction(String transactionalId, long producerId, long txnEpoch, long expectedRevision,
                               byte[] committedRecord) {
        this(transactionalId, producerId, txnEpoch, expectedRevision, committedRecord, null);
    }

    /** The producer's next transaction, decided on the record as {@code predecessor} commits it (chained to it). */
    public static OneWriteTransaction chainedTo(OneWriteTransaction predecessor, long txnEpoch,
                                                byte[] committedRecord) {
        return new OneWriteTransaction(predecessor.transactionalId(), predecessor.producerId(), txnEpoch, 0,
                committedRecord, predecessor.committedRecord());
    }

    /** Whether it was decided on its predecessor's record, not yet stored then. */
    public boolean chained() {
        return predecessorRecord != null;
    }

    /** Whether a batch of ({@code producerId}, {@code txnEpoch}) belongs to it. */
    public boolean holds(long producerId, long txnEpoch) {
        return this.producerId == producerId && this.txnEpoch == txnEpoch;
    }
}
