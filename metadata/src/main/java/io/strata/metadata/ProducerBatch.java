package io.strata.metadata;

/**
 * An idempotent producer's records inside a chunk: {@code recordCount} records from position
 * {@code firstPosition} of the chunk, carrying sequences {@code baseSequence} onwards. The commit checks
 * them against the producer's state in the partition's head.
 */
public record ProducerBatch(long producerId, long baseSequence, int firstPosition, int recordCount) {
    /**
     * How many of a producer's latest batches per partition a commit recognises as retries. Producers are
     * told (InitProducer) and keep at most this many batches of a partition in flight.
     */
    public static final int RETRY_WINDOW = 16;

    public ProducerBatch {
        if (producerId <= 0 || baseSequence < 0 || firstPosition < 0 || recordCount <= 0) {
            throw new IllegalArgumentException("invalid producer batch " + producerId + "@" + baseSequence);
        }
    }

    public long lastSequence() {
        return baseSequence + recordCount - 1;
    }
}
