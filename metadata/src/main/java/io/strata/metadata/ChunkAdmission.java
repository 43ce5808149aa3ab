package io.strata.metadata;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * Decides one chunk's commit against its partition's next offset and producer state: the offsets its records
 * get, and for each idempotent producer batch whether it is new (appended), a retry of a stored one (duplicate:
 * it gets the original's offsets and its records are skipped), or refused and skipped. Pure: the caller writes
 * the chunk's index entry, with the batches it appended, in a transaction guarded by the shard's head, so a
 * decision holds exactly when it commits.
 *
 * <p>Rules, per producer and partition: a producer the partition has no state of starts at sequence 0 (a batch
 * at another sequence cannot be checked: it never wrote there, or its state expired, and it must start
 * afresh); afterwards each batch must start right after the last stored sequence. A transactional producer's
 * batches carry its transaction's epoch: an older one is fenced; a newer one goes on from the last sequence when
 * it is a later transaction of the same producer epoch, and starts at 0 when it is of a newer producer epoch. A retry is recognised among
 * the producer's last {@link #RECENT_BATCHES} batches, whatever the number of producers.
 */
final class ChunkAdmission {
    static final int RECENT_BATCHES = ProducerBatch.RETRY_WINDOW;

    /**
     * What the commit did, the index's chunk (null when nothing got offsets), the batches it appended and the
     * states of the producers that appended, by id, after them (what folding {@code appends} would give).
     */
    record Admitted(long nextOffset, ChunkCommit commit, ChunkRef ref, List<ProducerAppend> appends,
                    Map<Long, ProducerState> states) {
    }

    private ChunkAdmission() {
    }

    /** Whether a transaction, named by its producer id and transaction epoch, is open (docs/transactions.md). */
    @FunctionalInterface
    interface OpenTransactions {
        /** For chunks without transactional batches. */
        OpenTransactions NONE = (producerId, txnEpoch) -> false;

        boolean isOpen(long producerId, long txnEpoch);

        /** Why a batch of a transaction that {@link #isOpen} says is not open is not stored: the producer's error. */
        default String whyNotStored(long producerId, long txnEpoch, int partition) {
            return "transaction of producer " + producerId + " at epoch " + txnEpoch + " is no longer open (it was "
                    + "committed, aborted or timed out before this batch to partition " + partition + " could be "
                    + "stored); nothing of the batch is stored";
        }
    }

    /** {@link #admit(long, LongFunction, BlockChunk, String, long, OpenTransactions)} for a chunk of no transaction. */
    static Admitted admit(long nextOffset, LongFunction<ProducerState> stateOf, BlockChunk chunk, String objectKey,
                          long now) {
        return admit(nextOffset, stateOf, chunk, objectKey, now, OpenTransactions.NONE);
    }

    /**
     * @param nextOffset the partition's next offset
     * @param stateOf    the partition's state of a producer, null when it has none
     * @param open       which transactions are open: a transactional batch (epoch above 0) of one that is not is
     *                   refused, unless it is a retry of a batch stored while it was
     */
    static Admitted admit(long nextOffset, LongFunction<ProducerState> stateOf, BlockChunk chunk, String objectKey,
                          long now, OpenTransactions open) {
        Map<Long, ProducerState> touched = new HashMap<>(); // a chunk may hold several batches of one producer
        long base = nextOffset;
        List<SkippedRange> skipped = new ArrayList<>();
        List<BatchOutcome> outcomes = new ArrayList<>(chunk.producerBatches().size());
        List<ProducerAppend> appends = new ArrayList<>();
        int skippedCount = 0;
        for (ProducerBatch batch : chunk.producerBatches()) {
            ProducerState state = touched.containsKey(batch.producerId()) ? touched.get(batch.producerId())
                    : stateOf.apply(batch.producerId());
            BatchOutcome outcome = decide(state, batch, chunk.partition());
            if (outcome == null && batch.epoch() > 0 && !open.isOpen(batch.producerId(), batch.epoch())) {
                outcome = new BatchOutcome.Rejected(BatchOutcome.Reason.TRANSACTION_NOT_OPEN,
                        open.whyNotStored(batch.producerId(), batch.epoch(), chunk.partition().partition()));
            }
            if (outcome == null) {
                long offset = base + batch.firstPosition() - skippedCount;
                ProducerAppend append = new ProducerAppend(chunk.partition(), batch.producerId(),
                        batch.baseSequence(), batch.recordCount(), offset, batch.epoch());
                appends.add(append);
                touched.put(batch.producerId(), ProducerState.after(state, append, now, RECENT_BATCHES));
                outcome = new BatchOutcome.Appended(offset);
            } else {
                skipped.add(new SkippedRange(batch.firstPosition(), batch.recordCount()));
                skippedCount += batch.recordCount();
            }
            outcomes.add(outcome);
        }
        int assigned = chunk.recordCount() - skippedCount;
        ChunkCommit commit = new ChunkCommit(chunk.partition(), base, assigned, now, skipped, outcomes);
        ChunkRef ref = assigned == 0 ? null : new ChunkRef(chunk.partition(), objectKey, base, assigned,
                chunk.byteOffset(), chunk.byteLength(), chunk.uncompressedLength(), chunk.minTimestampMs(),
                chunk.maxTimestampMs(), chunk.crc32c(), chunk.recordCount(), skipped);
        return new Admitted(base + assigned, commit, ref, appends, touched);
    }

    /**
     * Whether two transaction epochs ({@code producer epoch << 32 | n}, docs/transactions.md) are transactions of one
     * producer epoch: its sequences run on across them.
     */
    private static boolean sameProducerEpoch(long a, long b) {
        return a > 0 && b > 0 && (a >>> 32) == (b >>> 32);
    }

    /** Null when the batch is to be appended; otherwise why it is not. */
    private static BatchOutcome decide(ProducerState state, ProducerBatch batch, PartitionId partition) {
        if (state != null && batch.epoch() < state.epoch()) {
            return new BatchOutcome.Rejected(BatchOutcome.Reason.PRODUCER_FENCED, "producer fenced: producer "
                    + batch.producerId() + " sent a batch of transaction epoch " + batch.epoch() + " to partition "
                    + partition.partition() + ", which stored epoch " + state.epoch() + " of it: a newer producer "
                    + "of its transactional id took over (or its transaction ended)");
        }
        if (state != null && batch.epoch() > state.epoch() && !sameProducerEpoch(batch.epoch(), state.epoch())) {
            // A new producer of the transactional id (or a producer that was idempotent only before): its sequences
            // start again from 0. A new transaction of the same producer goes on from its last sequence, as Kafka's
            // producers number theirs.
            return batch.baseSequence() == 0 ? null : new BatchOutcome.Rejected(BatchOutcome.Reason.SEQUENCE_GAP,
                    "producer " + batch.producerId() + " began producer epoch " + (batch.epoch() >>> 32)
                            + " on partition " + partition.partition() + " at sequence " + batch.baseSequence()
                            + "; a new producer epoch starts at sequence 0");
        }
        if (state == null) {
            return batch.baseSequence() == 0 ? null : new BatchOutcome.Rejected(BatchOutcome.Reason.UNKNOWN_PRODUCER,
                    "producer " + batch.producerId() + " sent sequence " + batch.baseSequence() + " to partition "
                            + partition.partition() + ", where it has no state (it never wrote there, or it was "
                            + "idle longer than strata.producer.state-expiry): the batch cannot be checked for "
                            + "duplicates; start the producer afresh (a new producer id, sequences from 0)");
        }
        if (batch.baseSequence() == state.lastSequence() + 1) {
            return null;
        }
        for (ProducerState.Batch recent : state.recent()) {
            if (recent.baseSequence() == batch.baseSequence() && recent.recordCount() == batch.recordCount()) {
                return new BatchOutcome.Duplicate(recent.baseOffset());
            }
        }
        long expected = state.lastSequence() + 1;
        if (batch.lastSequence() < expected) {
            return new BatchOutcome.Rejected(BatchOutcome.Reason.STALE_SEQUENCE, "sequences " + batch.baseSequence()
                    + ".." + batch.lastSequence() + " of producer " + batch.producerId()
                    + " were stored too long ago to be matched; the next expected sequence is " + expected);
        }
        return new BatchOutcome.Rejected(BatchOutcome.Reason.SEQUENCE_GAP, "producer " + batch.producerId()
                + " sent sequence " + batch.baseSequence() + " but the next expected sequence is " + expected);
    }
}
