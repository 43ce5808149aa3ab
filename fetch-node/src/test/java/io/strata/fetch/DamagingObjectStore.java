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

    DamagingObjectStore(ObjectStore delegate) {
        super(delegate);
    }

    /** The next {@code answers} ranged GETs are damaged (the stored object is not). */
    void damageNext(int answers) {
        damageNext.set(answers);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key, ByteRange range) {
        return delegate.get(key, range).thenApply(bytes -> {
            if (damageNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                byte[] copy = new byte[bytes.remaining()];
                bytes.duplicate().get(copy);
                copy[copy.length / 2] ^= 0x20;
                return ByteBuffer.wrap(copy);
            }
            return bytes;
        });
    }
}
