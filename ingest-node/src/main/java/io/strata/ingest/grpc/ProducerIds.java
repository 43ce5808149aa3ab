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
    private volatile io.strata.metadata.security.ProducerIdBinding binding;
    /** Ids that name no principal (issued before ids did) count as never issued: their producers ask again. */
    private volatile boolean boundOnly;

    public ProducerIds(MetadataStore metadata) {
        this.metadata = metadata;
    }

    /**
     * From now on ids name the principal they are issued to ({@link io.strata.metadata.security.ProducerIdBinding});
     * before, an id is the counter's value.
     */
    public void bindWith(io.strata.metadata.security.ProducerIdBinding binding, boolean boundOnly) {
        this.binding = binding;
        this.boundOnly = boundOnly;
    }

    /** A new id for {@code principal}. */
    public CompletableFuture<Long> issue(String principal) {
        return metadata.allocateProducerId().thenApply(counter -> {
            highestKnown.accumulateAndGet(counter, Math::max);
            io.strata.metadata.security.ProducerIdBinding b = binding;
            return b == null ? counter : b.bind(counter, principal);
        });
    }

    /**
     * Whether {@code id} may be handed to {@code principal}: one bound to it, or, where ids need not name their
     * principal, one that names none (issued before ids did).
     */
    public boolean issuedTo(long id, String principal) {
        io.strata.metadata.security.ProducerIdBinding b = binding;
        if (b == null) {
            return true;
        }
        return io.strata.metadata.security.ProducerIdBinding.bound(id) ? b.boundTo(id, principal) : !boundOnly;
    }

    /** Whether {@code id} was issued by some node. */
    public CompletableFuture<Boolean> isIssued(long id) {
        long counter = io.strata.metadata.security.ProducerIdBinding.counterOf(id);
        if (id <= 0 || counter <= 0 || (boundOnly && !io.strata.metadata.security.ProducerIdBinding.bound(id))) {
            return CompletableFuture.completedFuture(false);
        }
        if (counter <= highestKnown.get()) {
            return CompletableFuture.completedFuture(true);
        }
        return metadata.lastProducerId().thenApply(last -> {
            highestKnown.accumulateAndGet(last, Math::max);
            return counter <= last;
        });
    }
}
