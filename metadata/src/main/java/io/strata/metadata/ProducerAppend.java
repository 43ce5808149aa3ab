package io.strata.metadata;

/**
 * One idempotent producer batch a commit appended: {@code recordCount} records of producer {@code producerId},
 * sequences from {@code baseSequence}, at offsets from {@code baseOffset} of {@code partition}. The index
 * entry of the commit carries them, so producer state can be rebuilt from the index alone. {@code epoch}: the
 * transaction epoch of a transactional producer's batch, 0 otherwise.
 */
public record ProducerAppend(PartitionId partition, long producerId, long baseSequence, int recordCount,
                             long baseOffset, long epoch) {
    public ProducerAppend {
        if (partition == null || producerId <= 0 || baseSequence < 0 || recordCount <= 0 || baseOffset < 0
                || epoch < 0) {
            throw new IllegalArgumentException("invalid producer append " + producerId + "@" + baseSequence);
        }
    }

    /** An append of a producer that is idempotent only (epoch 0). */
    public ProducerAppend(PartitionId partition, long producerId, long baseSequence, int recordCount,
                          long baseOffset) {
        this(partition, producerId, baseSequence, recordCount, baseOffset, 0);
    }

    /** Whether a transaction wrote it: its records are read-committed only once their transaction committed. */
    public boolean transactional() {
        return epoch > 0;
    }

    public long lastSequence() {
        return baseSequence + recordCount - 1;
    }
}
