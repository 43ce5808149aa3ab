package io.strata.ingest;

import io.strata.storage.object.ForwardingObjectStore;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import io.strata.storage.object.ObjectStoreException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** Wraps a real store; puts can be made to fail, or to hang until released; one by one, or all. */
final class FaultInjectingObjectStore extends ForwardingObjectStore {
    private volatile boolean failPuts;
    private volatile boolean holdPuts;
    private final List<Runnable> held = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
    /** What the next puts do, first to last: true holds it until {@link #holdPuts}(false), false fails it. */
    private final java.util.Queue<Boolean> next = new java.util.concurrent.ConcurrentLinkedQueue<>();

    FaultInjectingObjectStore(ObjectStore delegate) {
        super(delegate);
    }

    /** The next put hangs until {@code holdPuts(false)}. */
    void holdNextPut() {
        next.add(true);
    }

    /** The next put fails (after those already scripted). */
    void failNextPut() {
        next.add(false);
    }

    /** Puts failed so far. */
    int putsFailed() {
        return failed.get();
    }

    /** Puts held so far and not yet released. */
    int heldPuts() {
        return held.size();
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
        Boolean scripted = next.poll();
        if (failPuts || Boolean.FALSE.equals(scripted)) {
            failed.incrementAndGet();
            return CompletableFuture.failedFuture(new ObjectStoreException("injected put failure", true));
        }
        if (holdPuts || Boolean.TRUE.equals(scripted)) {
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
