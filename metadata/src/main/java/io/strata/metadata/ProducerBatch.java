package io.strata.metadata;

/**
 * An idempotent producer's records inside a chunk: {@code recordCount} records from position
 * {@code firstPosition} of the chunk, carrying sequences {@code baseSequence} onwards. The commit checks
 * them against the producer's state in the partition's head. {@code epoch} is a transactional producer's
 * transaction epoch (docs/transactions.md), 0 for a producer that is idempotent only: a batch of an older epoch
 * than the partition stored of the producer is fenced.
 */
public record ProducerBatch(long producerId, long baseSequence, int firstPosition, int recordCount, long epoch) {
    /**
     * How many of a producer's latest batches per partition a commit recognises as retries. Producers are
     * told (InitProducer) and keep at most this many batches of a partition in flight.
     */
    public static final int RETRY_WINDOW = 16;

    public ProducerBatch {
        if (producerId <= 0 || baseSequence < 0 || firstPosition < 0 || recordCount <= 0 || epoch < 0) {
            throw new IllegalArgumentException("invalid producer batch " + producerId + "@" + baseSequence);
        }
    }

    /** A batch of a producer that is idempotent only (epoch 0). */
    public ProducerBatch(long producerId, long baseSequence, int firstPosition, int recordCount) {
        this(producerId, baseSequence, firstPosition, recordCount, 0);
    }

    public long lastSequence() {
        return baseSequence + recordCount - 1;
    }
}
