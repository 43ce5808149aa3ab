package io.strata.storage.object;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * An {@link ObjectStore} that passes every call to another: the base of decorators (request counting, and
 * fault injection in tests), which override only what they change. Closing it closes the delegate.
 */
public abstract class ForwardingObjectStore implements ObjectStore {
    protected final ObjectStore delegate;

    protected ForwardingObjectStore(ObjectStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public CompletableFuture<Void> put(ObjectKey key, ByteBuffer bytes) {
        return delegate.put(key, bytes);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key, ByteRange range) {
        return delegate.get(key, range);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key) {
        return delegate.get(key);
    }

    @Override
    public CompletableFuture<List<ObjectInfo>> list(String prefix) {
        return delegate.list(prefix);
    }

    @Override
    public CompletableFuture<ListPage> listPage(String prefix, String startAfter, int maxKeys) {
        return delegate.listPage(prefix, startAfter, maxKeys);
    }

    @Override
    public CompletableFuture<Set<ObjectKey>> delete(Set<ObjectKey> keys) {
        return delegate.delete(keys);
    }

    @Override
    public CompletableFuture<Integer> deleteIncomplete(Instant startedBefore) {
        return delegate.deleteIncomplete(startedBefore);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
