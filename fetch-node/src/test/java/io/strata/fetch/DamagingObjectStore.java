package io.strata.fetch;

import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ForwardingObjectStore;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** A real store whose next ranged GET answers come back with one bit flipped, as if damaged in transit. */
final class DamagingObjectStore extends ForwardingObjectStore {
    private final AtomicInteger damageNext = new AtomicInteger();
    private final AtomicInteger damaged = new AtomicInteger();
    private volatile boolean differently;

    DamagingObjectStore(ObjectStore delegate) {
        super(delegate);
    }

    /** The next {@code answers} ranged GETs are damaged (the stored object is not), the same bit each time. */
    void damageNext(int answers) {
        damageNext.set(answers);
        differently = false;
    }

    /** The next {@code answers} ranged GETs are damaged each at another place, as damage in transit is. */
    void damageNextDifferently(int answers) {
        damageNext.set(answers);
        differently = true;
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key, ByteRange range) {
        return delegate.get(key, range).thenApply(bytes -> {
            if (damageNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                byte[] copy = new byte[bytes.remaining()];
                bytes.duplicate().get(copy);
                int at = differently ? (copy.length / 2 + 31 * damaged.incrementAndGet()) % copy.length
                        : copy.length / 2;
                copy[at] ^= 0x20;
                return ByteBuffer.wrap(copy);
            }
            return bytes;
        });
    }
}
