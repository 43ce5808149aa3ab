package io.strata.metadata;

/**
 * A named piece of work held by one worker: a key bound to the worker's lease, created at {@code modRevision}.
 * Changes made under it guard that the key is still at that revision, so they fail once the lease expired
 * (a paused worker's late change is refused) or the lock was released.
 */
public record WorkLock(String name, String key, long modRevision) {
    public WorkLock {
        if (name == null || key == null || modRevision <= 0) {
            throw new IllegalArgumentException("invalid lock " + name);
        }
    }
}
