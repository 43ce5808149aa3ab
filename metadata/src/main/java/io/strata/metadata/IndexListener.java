package io.strata.metadata;

/**
 * Receives index changes after a snapshot's revision, in commit order, from one thread at a time.
 * Implementations must return quickly (hand work to their own executor).
 */
public interface IndexListener {
    /** A block was committed (or, later, compaction wrote a segment): its entry for one shard. */
    void onEntry(IndexEntry entry);

    /** An entry was removed (compaction or retention). */
    default void onRemoved(int shard, long sequence) {
    }

    /**
     * The watch broke and cannot resume where it was (history compacted, session lost). The listener's view
     * is stale: read a new snapshot and watch again from it.
     */
    void onReset(Throwable cause);
}
