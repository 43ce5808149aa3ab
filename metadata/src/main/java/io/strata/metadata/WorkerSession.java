package io.strata.metadata;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A worker's lease in the metadata store, kept alive until closed, and the locks it holds under it. When
 * the lease is lost (the worker paused past its TTL, or the store was unreachable that long) every lock is
 * gone with it: changes guarded by them fail. Thread-safe.
 */
public interface WorkerSession extends AutoCloseable {
    String owner();

    /** Takes the named lock if no one holds it; empty when someone does. */
    CompletableFuture<Optional<WorkLock>> tryLock(String name);

    /** Releases the lock (deletes its key if it is still ours). */
    CompletableFuture<Void> unlock(WorkLock lock);

    /** Completes when the lease is known to be lost: every lock of this session is gone. */
    CompletableFuture<Void> lost();

    /** Revokes the lease, releasing every lock. Idempotent. */
    @Override
    void close();
}
