package io.strata.metadata.kv;

import java.util.concurrent.CompletableFuture;

/**
 * A lease kept alive by the store adapter until closed. Keys put with its id are deleted when it ends:
 * when closed (revoked), or when renewals stop reaching the store for its TTL.
 */
public interface KvLease extends AutoCloseable {
    long id();

    /** Completes when the lease is known to be gone without {@link #close()}: its keys may be deleted. */
    CompletableFuture<Void> lost();

    /** Revokes the lease, deleting its keys. Idempotent. */
    @Override
    void close();
}
