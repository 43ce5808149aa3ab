package io.strata.ingest;

import io.strata.storage.object.ForwardingObjectStore;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import io.strata.storage.object.ObjectStoreException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** Wraps a real store; puts can be made to fail, or to hang until released. */
final class FaultInjectingObjectStore extends ForwardingObjectStore {
    private volatile boolean failPuts;
    private volatile boolean holdPuts;
    private final List<Runnable> held = new CopyOnWriteArrayList<>();

    FaultInjectingObjectStore(ObjectStore delegate) {
        super(delegate);
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
}
