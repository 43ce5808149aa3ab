package io.strata.ingest.grpc;

import io.strata.metadata.MetadataStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issues idempotent producer ids (from the metadata store, so they are unique across nodes) and tells
 * whether an id was ever issued, remembering the highest one seen so that only an id above it costs a
 * metadata read. Thread-safe.
 */
public final class ProducerIds {
    private final MetadataStore metadata;
    private final AtomicLong highestKnown = new AtomicLong();

    public ProducerIds(MetadataStore metadata) {
        this.metadata = metadata;
    }

    public CompletableFuture<Long> issue() {
        return metadata.allocateProducerId().thenApply(id -> {
            highestKnown.accumulateAndGet(id, Math::max);
            return id;
        });
    }

    /** Whether {@code id} was issued by some node. */
    public CompletableFuture<Boolean> isIssued(long id) {
        if (id <= 0) {
            return CompletableFuture.completedFuture(false);
        }
        if (id <= highestKnown.get()) {
            return CompletableFuture.completedFuture(true);
        }
        return metadata.lastProducerId().thenApply(last -> {
            highestKnown.accumulateAndGet(last, Math::max);
            return id <= last;
        });
    }
}
