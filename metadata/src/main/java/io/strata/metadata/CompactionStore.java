package io.strata.metadata;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The metadata compaction works on: a shard's index read whole and changed by guarded swaps, workers'
 * leases and locks, the garbage collector's markers, and the store's revision history. Producers' commits
 * never touch what compaction writes but the index entries it replaces, so the two never conflict.
 * Thread-safe; every future completes within the store's timeouts.
 */
public interface CompactionStore {

    /** The shard's entries, their mod revisions and its compaction state, at one revision. */
    CompletableFuture<ShardSnapshot> readShard(int shard);

    /** Applies the swap in one transaction, or reports a conflict; an unknown outcome is resolved by reading. */
    CompletableFuture<SwapOutcome> swap(ShardSwap swap);

    /**
     * Moves the log starts of partitions of {@code shard} forward to at least the offsets given (Kafka's
     * DeleteRecords), never back, keeping everything else in the shard's state; answers each partition's log start
     * as written. A guarded write of the state, retried when a swap moved it in between: a swap planned before
     * it fails its guard, and its worker swaps it in again with the raised starts merged (or plans it again), so
     * retention never moves a start back. The caller checks that each offset is within the partition (the start
     * may not pass its end).
     */
    CompletableFuture<Map<PartitionId, Long>> raiseLogStarts(int shard, Map<PartitionId, Long> starts);

    /** A lease for a worker named {@code owner}, kept alive until the session is closed. */
    CompletableFuture<WorkerSession> openSession(String owner, Duration ttl);

    /** Every marker, by object key. */
    CompletableFuture<Map<String, GcMarker>> readMarkers();

    /** Puts the markers (in as many transactions as the store's limits need), each only while {@code lock} holds. */
    CompletableFuture<Void> putMarkers(Collection<GcMarker> markers, WorkLock lock);

    /** Deletes the markers of these objects, each only while {@code lock} holds. */
    CompletableFuture<Void> deleteMarkers(Collection<String> objectKeys, WorkLock lock);

    /**
     * Compacts the store's revision history to a revision seen at least {@code keep} ago (sampled under
     * {@code lock}, so a one-shot run compacts what an earlier run sampled), bounding the store's size.
     * Watches from before that revision break and their owners read again. Answers the revision compacted
     * to, or 0 when nothing was.
     */
    CompletableFuture<Long> compactHistory(Duration keep, WorkLock lock);

    /**
     * Writes down a worker's last pass (replacing its previous one) and forgets other workers' passes older than
     * {@code forgetAfter}: workers come and go (a CronJob's pods), their notes do not pile up.
     */
    CompletableFuture<Void> recordPass(CompactionPass pass, java.time.Duration forgetAfter);

    /** Every worker's last pass, newest first. */
    CompletableFuture<java.util.List<CompactionPass>> readPasses();

    /**
     * Writes down what a shard's partitions store ({@link ShardSizes}), only while {@code lock} (the shard's)
     * holds: a worker that lost the shard does not overwrite a newer measure.
     */
    CompletableFuture<Void> recordSizes(ShardSizes sizes, WorkLock lock);

    /** The sizes of every shard measured so far (one range read; a value that does not decode is left out). */
    CompletableFuture<java.util.List<ShardSizes>> readSizes();

    /** The sizes of these shards, those measured (one read: a few shards need not read them all). */
    CompletableFuture<java.util.List<ShardSizes>> readSizes(java.util.Collection<Integer> shards);

    /** The most guards, and the most ops, one swap may hold. */
    int maxTxnOps();

    /** The most bytes one swap should carry. */
    int maxTxnBytes();
}
