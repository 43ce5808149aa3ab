package io.strata.metadata;

import java.util.ArrayList;
import java.util.List;

/**
 * What a commit knows of one idempotent producer in one partition: the sequence of its last stored record,
 * when it last wrote, and its last few stored batches (oldest first), so a retry of one of them gets its
 * original offsets. Immutable.
 */
public record ProducerState(long producerId, long lastSequence, long lastWriteMs, List<Batch> recent) {
    /** One stored batch: its first sequence, its records and the offset of its first record. */
    public record Batch(long baseSequence, int recordCount, long baseOffset) {
    }

    public ProducerState {
        recent = List.copyOf(recent);
    }

    /** The state after {@code append} was stored at {@code atMs}: at most {@code keep} recent batches. */
    public static ProducerState after(ProducerState before, ProducerAppend append, long atMs, int keep) {
        List<Batch> recent = new ArrayList<>(keep + 1);
        if (before != null) {
            recent.addAll(before.recent);
        }
        recent.add(new Batch(append.baseSequence(), append.recordCount(), append.baseOffset()));
        while (recent.size() > keep) {
            recent.remove(0);
        }
        long lastWrite = before == null ? atMs : Math.max(before.lastWriteMs, atMs);
        return new ProducerState(append.producerId(), append.lastSequence(), lastWrite, recent);
    }
}
