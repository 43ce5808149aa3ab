package io.strata.metadata.share;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * The state of share groups' partitions (docs/queues.md): one value per group, topic and partition, opaque here
 * (the queues module encodes it), written with compare-and-set on its revision so that two nodes serving the
 * same partition never overwrite each other's decisions. Thread-safe.
 */
public interface ShareStateStore {
    /** A stored state and the revision it was written at (compare-and-set against it). */
    record Stored(byte[] state, long revision) {
    }

    CompletableFuture<Optional<Stored>> load(String group, long topicId, int partition);

    /**
     * Writes the state if the stored one is still at {@code expectedRevision} (0: none stored yet); answers the new
     * revision, or empty when another writer moved it first (nothing written: load again and decide again).
     */
    CompletableFuture<OptionalLong> save(String group, long topicId, int partition, byte[] state, long expectedRevision);

    /** Every partition's state of the group's topic, by partition. */
    CompletableFuture<Map<Integer, Stored>> loadTopic(String group, long topicId);

    /** One stored partition state, named. */
    record Named(String group, long topicId, int partition, Stored stored) {
    }

    /** Every stored partition state of {@code group}, or of every share group when it is empty. */
    CompletableFuture<List<Named>> list(String group);

    /**
     * Removes each of {@code states} still at the revision it was read at (a group deleted, a topic gone), a
     * transaction's worth at a time; answers those removed. One that moved meanwhile is kept: its writer decided
     * on it after the caller read it, so the caller reads and decides again.
     */
    CompletableFuture<List<Named>> delete(List<Named> states);
}
