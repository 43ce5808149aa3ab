package io.strata.metadata.half;

import io.strata.metadata.PartitionId;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Where half messages are decided (docs/transactions.md, "Half messages with check-back"): one small state per half
 * message, one scan per partition (how far its half log was read, and the round of deliveries under way), both opaque
 * here (the transactions module encodes them) and written only under guards on the revisions their writer read, and
 * the nodes that hold check-back streams of each producer group. Thread-safe.
 */
public interface HalfStore {
    /** A stored value and the revision it was written at. */
    record Stored(byte[] value, long revision) {
    }

    /** One half message's stored state. */
    record Message(PartitionId partition, long offset, Stored stored) {
    }

    /**
     * A change of one half message's state, applied only if its stored revision is still {@code expectedRevision}
     * (0: absent). {@code value} null deletes it.
     */
    record Change(long offset, byte[] value, long expectedRevision) {
        public Change {
            if (offset < 0 || expectedRevision < 0) {
                throw new IllegalArgumentException("invalid change of half message " + offset);
            }
        }
    }

    CompletableFuture<Optional<Stored>> scan(PartitionId partition);

    /** Every partition's scan. */
    CompletableFuture<Map<PartitionId, Stored>> scans();

    CompletableFuture<Optional<Stored>> message(PartitionId partition, long offset);

    /** Every half message's state, in partition and offset order. */
    CompletableFuture<List<Message>> messages();

    /** A partition's half messages' states from offset {@code from} (included) to {@code to} (excluded). */
    CompletableFuture<List<Message>> messages(PartitionId partition, long from, long to);

    /**
     * Applies {@code changes} and, unless {@code scan} is null, writes the partition's scan, all at once and only if
     * every change's guard holds and the scan is still at {@code scanRevision} (0: none stored; -1: the scan is
     * neither guarded nor written). Answers the revision everything written now has, or empty when a guard failed
     * (nothing written). At most {@link #maxChanges()} changes.
     */
    CompletableFuture<java.util.OptionalLong> apply(PartitionId partition, long scanRevision, byte[] scan, List<Change> changes);

    /** Removes the partition's scan if it is still at {@code revision} (its topic is gone). */
    CompletableFuture<Boolean> deleteScan(PartitionId partition, long revision);

    /** The most changes one {@link #apply} takes. */
    int maxChanges();

    /**
     * Says, for as long as the answer is open and this process reaches the store, that node {@code nodeId} holds a
     * check-back stream of producer group {@code group}. Closing it (or the process dying) withdraws it.
     */
    CompletableFuture<Registration> registerProducer(String group, String nodeId, Duration ttl);

    /** A node's registration; {@link #lost} completes when it went without being closed (register again). */
    interface Registration extends AutoCloseable {
        CompletableFuture<Void> lost();

        @Override
        void close();
    }

    /** The nodes with check-back streams of {@code group}. */
    CompletableFuture<List<String>> producerNodes(String group);
}
