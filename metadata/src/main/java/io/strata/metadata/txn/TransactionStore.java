package io.strata.metadata.txn;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * Transactions' durable state (docs/transactions.md): one record per transactional id, opaque here (the
 * transactions module encodes it) and written with compare-and-set on its revision, so that a producer, a new
 * producer of the same id and the cluster's timeout never overwrite each other's decisions; and the marks aborted
 * transactions leave on the partitions they may have written to. Thread-safe.
 */
public interface TransactionStore {
    /** A stored record and the revision it was written at (compare-and-set against it). */
    record Stored(byte[] record, long revision) {
    }

    /** A stored record, named. */
    record Named(String transactionalId, Stored stored) {
    }

    /**
     * An aborted transaction's mark on one partition: records of {@code producerId} at {@code txnEpoch} there,
     * from {@code startOffset} on, are not to be read as committed.
     */
    record Aborted(long topicId, int partition, long producerId, long txnEpoch, long startOffset) {
    }

    CompletableFuture<Optional<Stored>> load(String transactionalId);

    /**
     * An open transaction, by the producer id and transaction epoch its batches carry: its key is present exactly
     * while it is open, and the shard commit stores its batches only under a guard that it still is.
     */
    record Open(long producerId, long txnEpoch) {
    }

    /**
     * Writes the record if the stored one is still at {@code expectedRevision} (0: none stored yet); answers the new
     * revision, or empty when another writer moved it first (nothing written: load again and decide again).
     */
    default CompletableFuture<OptionalLong> save(String transactionalId, byte[] record, long expectedRevision) {
        return save(transactionalId, record, expectedRevision, null, null);
    }

    /**
     * A consumer group's offset a commit writes with its record, only while the partition's owner key is still at
     * {@code ownerRevision} (as read when the commit was decided): written as the group's committed offset, as
     * member {@code memberId}'s at ownership {@code ownerEpoch}.
     */
    record GroupOffset(String group, String topic, int partition, long topicId, long offset, String metadata,
                       String memberId, long ownerEpoch, long ownerRevision) {
    }

    /** {@link #save(String, byte[], long, Open, Open)} without group offsets. */
    default CompletableFuture<OptionalLong> save(String transactionalId, byte[] record, long expectedRevision,
                                                 Open closes, Open opens) {
        return save(transactionalId, record, expectedRevision, closes, opens, List.of());
    }

    /**
     * {@link #save(String, byte[], long)}, ending the transaction {@code closes} and opening {@code opens} (either
     * null: none) and writing {@code offsets} in the same metadata transaction as the record: a batch whose commit
     * lands after the record says the transaction ended is refused, and the group offsets are written exactly when
     * the transaction commits. Empty as well when an owner key moved.
     */
    CompletableFuture<OptionalLong> save(String transactionalId, byte[] record, long expectedRevision, Open closes,
                                         Open opens, List<GroupOffset> offsets);

    /** Whether the transaction is open (its key present). */
    CompletableFuture<Boolean> isOpen(Open transaction);

    /**
     * Removes the record if it is still at {@code expectedRevision}; answers whether it did (false: another writer
     * moved it first, nothing removed).
     */
    CompletableFuture<Boolean> delete(String transactionalId, long expectedRevision);

    /** Every transactional id's record. */
    CompletableFuture<List<Named>> list();

    /**
     * Writes the marks (writing one again changes nothing), in as many metadata transactions as they take: the
     * record must say the abort is prepared before, and done only after, so that readers never see a transaction
     * marked in part as anything but still open.
     */
    CompletableFuture<Void> markAborted(List<Aborted> marks);

    /** The marks on one partition. */
    CompletableFuture<List<Aborted>> aborted(long topicId, int partition);

    /** Every mark. */
    CompletableFuture<List<Aborted>> allAborted();

    /** Removes marks whose records are gone (compacted away or past retention). */
    CompletableFuture<Void> forgetAborted(List<Aborted> marks);

    /** Every record and every mark, read at one revision (a watch from it misses nothing). */
    record Snapshot(List<Named> records, List<Aborted> marks, long revision) {
    }

    CompletableFuture<Snapshot> snapshot();

    /** Changes of records and marks, in the order they were written. */
    interface Listener {
        /** The id's record as written ({@code record} null: removed). */
        void onRecord(String transactionalId, byte[] record);

        /** A mark written ({@code present}) or removed. */
        void onMark(Aborted mark, boolean present);

        /** The watch ended and cannot resume: take a snapshot again and watch from it. */
        void onBroken(Throwable cause);
    }

    /** Follows records and marks after {@code afterRevision}, until the handle is closed. */
    AutoCloseable watch(long afterRevision, Listener listener);
}
