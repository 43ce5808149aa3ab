package io.strata.metadata;

/**
 * One idempotent producer batch a commit appended: {@code recordCount} records of producer {@code producerId},
 * sequences from {@code baseSequence}, at offsets from {@code baseOffset} of {@code partition}. The index
 * entry of the commit carries them, so producer state can be rebuilt from the index alone.
 */
public record ProducerAppend(PartitionId partition, long producerId, long baseSequence, int recordCount,
                             long baseOffset) {
    public ProducerAppend {
        if (partition == null || producerId <= 0 || baseSequence < 0 || recordCount <= 0 || baseOffset < 0) {
            throw new IllegalArgumentException("invalid producer append " + producerId + "@" + baseSequence);
        }
    }

    public long lastSequence() {
        return baseSequence + recordCount - 1;
    }
}
