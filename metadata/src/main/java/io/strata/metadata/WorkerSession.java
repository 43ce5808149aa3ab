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

    /**
     * Takes the named lock if no one holds it; empty when another session does. One this session holds already
     * is answered as held (at its current revision): a grant whose answer was lost, or an unlock that failed,
     * must not keep the lock from its own session for as long as the session lives. So a session's owner must
     * not try a lock it is still using.
     */
    CompletableFuture<Optional<WorkLock>> tryLock(String name);

    /** Releases the lock (deletes its key if it is still ours). */
    CompletableFuture<Void> unlock(WorkLock lock);

    /** Completes when the lease is known to be lost: every lock of this session is gone. */
    CompletableFuture<Void> lost();

    /** Revokes the lease, releasing every lock. Idempotent. */
    @Override
    void close();
}
