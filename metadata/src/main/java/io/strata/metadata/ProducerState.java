package io.strata.metadata;

import java.util.ArrayList;
import java.util.List;

/**
 * What a commit knows of one idempotent producer in one partition: the sequence of its last stored record,
 * when it last wrote, and its last few stored batches (oldest first), so a retry of one of them gets its
 * original offsets. {@code epoch}: the transaction epoch of its last stored batch (0 for a producer that is
 * idempotent only); sequences count within an epoch. Immutable.
 */
public record ProducerState(long producerId, long lastSequence, long lastWriteMs, List<Batch> recent, long epoch) {
    /** One stored batch: its first sequence, its records and the offset of its first record. */
    public record Batch(long baseSequence, int recordCount, long baseOffset) {
    }

    public ProducerState {
        recent = List.copyOf(recent);
    }

    /** The state of a producer that is idempotent only (epoch 0). */
    public ProducerState(long producerId, long lastSequence, long lastWriteMs, List<Batch> recent) {
        this(producerId, lastSequence, lastWriteMs, recent, 0);
    }

    /** The state after {@code append} was stored at {@code atMs}: at most {@code keep} recent batches. */
    public static ProducerState after(ProducerState before, ProducerAppend append, long atMs, int keep) {
        List<Batch> recent = new ArrayList<>(keep + 1);
        if (before != null && before.epoch == append.epoch()) {
            recent.addAll(before.recent); // a new epoch starts its sequences afresh: the old batches are not its
        }
        recent.add(new Batch(append.baseSequence(), append.recordCount(), append.baseOffset()));
        while (recent.size() > keep) {
            recent.remove(0);
        }
        long lastWrite = before == null ? atMs : Math.max(before.lastWriteMs, atMs);
        return new ProducerState(append.producerId(), append.lastSequence(), lastWrite, recent, append.epoch());
    }
}
