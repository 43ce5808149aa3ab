package io.strata.metadata;

/**
 * Receives index changes after a snapshot's revision, in commit order, from one thread at a time.
 * Implementations must return quickly (hand work to their own executor).
 */
public interface IndexListener {
    /** A block was committed, or compaction wrote a segment or an entry in place of another: one shard's entry. */
    void onEntry(IndexEntry entry);

    /** An entry was removed (compaction or retention). */
    default void onRemoved(int shard, long sequence) {
    }

    /**
     * Retention moved the start of some of the shard's partitions: {@code logStarts} holds every partition
     * of the shard with a moved start (the first offset kept), as it is now.
     */
    default void onLogStarts(int shard, java.util.Map<PartitionId, Long> logStarts) {
    }

    /**
     * The watch broke and cannot resume where it was (history compacted, session lost). The listener's view
     * is stale: read a new snapshot and watch again from it.
     */
    void onReset(Throwable cause);
}
