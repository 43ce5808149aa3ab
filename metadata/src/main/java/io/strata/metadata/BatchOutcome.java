package io.strata.metadata;

/** What the commit decided for one {@link ProducerBatch}. */
public sealed interface BatchOutcome {
    /** Stored now, at offsets from {@code baseOffset}. */
    record Appended(long baseOffset) implements BatchOutcome {
    }

    /** Stored before (this is a retry): the original's offsets. Nothing new was stored. */
    record Duplicate(long baseOffset) implements BatchOutcome {
    }

    /** Not stored: its sequence does not follow on from the producer's last one. */
    record Rejected(Reason reason, String message) implements BatchOutcome {
    }

    enum Reason {
        /** A gap: sequences were skipped (an earlier batch is missing). */
        SEQUENCE_GAP,
        /** Already stored, but too long ago for its offsets to be known. */
        STALE_SEQUENCE,
        /** Its topic was deleted (perhaps re-created under a new id) before the commit. */
        TOPIC_DELETED,
        /**
         * Not at sequence 0 from a producer the partition keeps no state of (it never wrote there, or its state
         * expired): it cannot be checked for duplicates. Nothing of it is stored; the producer starts afresh.
         */
        UNKNOWN_PRODUCER,
        /**
         * Of an older transaction epoch than the partition stored of the producer: a newer producer (or transaction)
         * of its transactional id took over. Nothing of it is stored; this producer is done.
         */
        PRODUCER_FENCED,
        /**
         * Of a transaction that was no longer open when the batch came to be committed (it committed, aborted or
         * timed out after the batch was taken): nothing of it is stored.
         */
        TRANSACTION_NOT_OPEN
    }
}
