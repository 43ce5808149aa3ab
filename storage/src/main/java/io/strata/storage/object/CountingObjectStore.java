package io.strata.storage.object;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the requests a node makes of its object store and the bytes they move, as a cloud bill counts
 * them: PUTs, GETs, LISTs (a page each) and DELETEs (an object each). Exported as metrics, and the measured
 * basis of docs/cost.md. Each request's time and outcome go to {@link #timings} when given (a missing object is
 * an answer, not a failure). Thread-safe.
 */
public final class CountingObjectStore extends ForwardingObjectStore {
    /** Where each request's duration and outcome go: "put", "get", "list" or "delete". */
    public interface Timings {
        void record(String op, long nanos, boolean failed);
    }

    private volatile Timings timings = (op, nanos, failed) -> { };
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
        return timed("put", () -> delegate.put(key, bytes));
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key, ByteRange range) {
        gets.increment();
        return timed("get", () -> delegate.get(key, range)).thenApply(this::counted);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key) {
        gets.increment();
        return timed("get", () -> delegate.get(key)).thenApply(this::counted);
    }

    private ByteBuffer counted(ByteBuffer bytes) {
        getBytes.add(bytes.remaining());
        return bytes;
    }

    @Override
    public CompletableFuture<List<ObjectInfo>> list(String prefix) {
        lists.increment();
        return timed("list", () -> delegate.list(prefix));
    }

    @Override
    public CompletableFuture<ListPage> listPage(String prefix, String startAfter, int maxKeys) {
        lists.increment();
        return timed("list", () -> delegate.listPage(prefix, startAfter, maxKeys));
    }

    @Override
    public CompletableFuture<Set<ObjectKey>> delete(Set<ObjectKey> keys) {
        deletes.add(keys.size());
        return timed("delete", () -> delegate.delete(keys));
    }

    /** Sends each request's time and outcome to {@code timings}. */
    public void timings(Timings timings) {
        this.timings = timings;
    }

    private <T> CompletableFuture<T> timed(String op, java.util.function.Supplier<CompletableFuture<T>> request) {
        long started = System.nanoTime();
        return request.get().whenComplete((ok, failure) -> {
            Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            timings.record(op, System.nanoTime() - started, cause != null && !(cause instanceof ObjectNotFoundException));
        });
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
