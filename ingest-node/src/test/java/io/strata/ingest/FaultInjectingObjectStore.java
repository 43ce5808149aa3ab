package io.strata.ingest;

import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ObjectInfo;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import io.strata.storage.object.ObjectStoreException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** Wraps a real store; puts can be made to fail, or to hang until released. */
final class FaultInjectingObjectStore implements ObjectStore {
    private final ObjectStore delegate;
    private volatile boolean failPuts;
    private volatile boolean holdPuts;
    private final List<Runnable> held = new CopyOnWriteArrayList<>();

    FaultInjectingObjectStore(ObjectStore delegate) {
        this.delegate = delegate;
    }

    void failPuts(boolean fail) {
        failPuts = fail;
    }

    void holdPuts(boolean hold) {
        holdPuts = hold;
        if (!hold) {
            held.forEach(Runnable::run);
            held.clear();
        }
    }

    @Override
    public CompletableFuture<Void> put(ObjectKey key, ByteBuffer bytes) {
        if (failPuts) {
            return CompletableFuture.failedFuture(new ObjectStoreException("injected put failure", true));
        }
        if (holdPuts) {
            CompletableFuture<Void> later = new CompletableFuture<>();
            held.add(() -> delegate.put(key, bytes).whenComplete((v, e) -> {
                if (e != null) {
                    later.completeExceptionally(e);
                } else {
                    later.complete(v);
                }
            }));
            return later;
        }
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
    public CompletableFuture<io.strata.storage.object.ListPage> listPage(String prefix, String startAfter, int maxKeys) {
        return delegate.listPage(prefix, startAfter, maxKeys);
    }

    @Override
    public CompletableFuture<Set<ObjectKey>> delete(Set<ObjectKey> keys) {
        return delegate.delete(keys);
    }

    @Override
    public CompletableFuture<Integer> deleteIncomplete(java.time.Instant startedBefore) {
        return delegate.deleteIncomplete(startedBefore);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
