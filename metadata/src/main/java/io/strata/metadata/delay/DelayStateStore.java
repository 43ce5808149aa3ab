package io.strata.metadata.delay;

import io.strata.metadata.PartitionId;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * The state of each partition's delayed records (docs/queues.md, "Delayed delivery"): one small value per target
 * partition, opaque here (the queues module encodes it), written with compare-and-set on its revision so that
 * two nodes working on the same partition never overwrite each other's progress. Thread-safe.
 */
public interface DelayStateStore {
    /** A stored state and the revision it was written at (compare-and-set against it). */
    record Stored(byte[] state, long revision) {
    }

    /** One partition's stored state. */
    record Named(PartitionId partition, Stored stored) {
    }

    CompletableFuture<Optional<Stored>> load(PartitionId partition);

    /**
     * Writes the state if the stored one is still at {@code expectedRevision} (0: none stored yet); answers the new
     * revision, or empty when another writer moved it first (nothing written).
     */
    CompletableFuture<OptionalLong> save(PartitionId partition, byte[] state, long expectedRevision);

    /** Removes the state if it is still at {@code expectedRevision}; answers whether it did. */
    CompletableFuture<Boolean> delete(PartitionId partition, long expectedRevision);

    /** Every partition's stored state. */
    CompletableFuture<List<Named>> list();
}
