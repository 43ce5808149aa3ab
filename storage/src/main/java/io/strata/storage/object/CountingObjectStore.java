package io.strata.storage.object;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the requests a node makes of its object store and the bytes they move, as a cloud bill counts
 * them: PUTs, GETs, LISTs (a page each) and DELETEs (an object each). Exported as metrics, and the measured
 * basis of docs/cost.md. Thread-safe.
 */
public final class CountingObjectStore extends ForwardingObjectStore {
    private final LongAdder puts = new LongAdder();
    private final LongAdder putBytes = new LongAdder();
    private final LongAdder gets = new LongAdder();
    private final LongAdder getBytes = new LongAdder();
    private final LongAdder lists = new LongAdder();
    private final LongAdder deletes = new LongAdder();

    public CountingObjectStore(ObjectStore delegate) {
        super(delegate);
    }

    @Override
    public CompletableFuture<Void> put(ObjectKey key, ByteBuffer bytes) {
        puts.increment();
        putBytes.add(bytes.remaining());
        return delegate.put(key, bytes);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key, ByteRange range) {
        gets.increment();
        return delegate.get(key, range).thenApply(this::counted);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key) {
        gets.increment();
        return delegate.get(key).thenApply(this::counted);
    }

    private ByteBuffer counted(ByteBuffer bytes) {
        getBytes.add(bytes.remaining());
        return bytes;
    }

    @Override
    public CompletableFuture<List<ObjectInfo>> list(String prefix) {
        lists.increment();
        return delegate.list(prefix);
    }

    @Override
    public CompletableFuture<ListPage> listPage(String prefix, String startAfter, int maxKeys) {
        lists.increment();
        return delegate.listPage(prefix, startAfter, maxKeys);
    }

    @Override
    public CompletableFuture<Set<ObjectKey>> delete(Set<ObjectKey> keys) {
        deletes.add(keys.size());
        return delegate.delete(keys);
    }

    public long puts() {
        return puts.sum();
    }

    public long putBytes() {
        return putBytes.sum();
    }

    public long gets() {
        return gets.sum();
    }

    public long getBytes() {
        return getBytes.sum();
    }

    public long lists() {
        return lists.sum();
    }

    public long deletes() {
        return deletes.sum();
    }
}
