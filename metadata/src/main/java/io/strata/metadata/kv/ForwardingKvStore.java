package io.strata.metadata.kv;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link KvStore} that passes every call to another: the base of decorators (fault injection in tests),
 * which override only what they change. Closing it closes the delegate.
 */
public abstract class ForwardingKvStore implements KvStore {
    protected final KvStore delegate;

    protected ForwardingKvStore(KvStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public CompletableFuture<Optional<KeyValue>> get(String key) {
        return delegate.get(key);
    }

    @Override
    public CompletableFuture<KvRange> range(String prefix) {
        return delegate.range(prefix);
    }

    @Override
    public CompletableFuture<KvRange> getAll(Collection<String> keys, List<KeyRange> ranges) {
        return delegate.getAll(keys, ranges);
    }

    @Override
    public CompletableFuture<KvRange> range(String fromKey, String toKey) {
        return delegate.range(fromKey, toKey);
    }

    @Override
    public CompletableFuture<TxnResult> txn(List<KvGuard> guards, List<KvOp> ops) {
        return delegate.txn(guards, ops);
    }

    @Override
    public AutoCloseable watch(String prefix, long afterRevision, KvWatchListener listener) {
        return delegate.watch(prefix, afterRevision, listener);
    }

    @Override
    public CompletableFuture<Void> compact(long revision) {
        return delegate.compact(revision);
    }

    @Override
    public CompletableFuture<KvLease> grantLease(Duration ttl) {
        return delegate.grantLease(ttl);
    }

    @Override
    public CompletableFuture<Long> grantSessionLease(Duration ttl) {
        return delegate.grantSessionLease(ttl);
    }

    @Override
    public CompletableFuture<Boolean> renewLease(long id) {
        return delegate.renewLease(id);
    }

    @Override
    public CompletableFuture<Void> revokeLease(long id) {
        return delegate.revokeLease(id);
    }

    @Override
    public CompletableFuture<Long> sizeBytes() {
        return delegate.sizeBytes();
    }

    @Override
    public int maxTxnOps() {
        return delegate.maxTxnOps();
    }

    @Override
    public int maxTxnBytes() {
        return delegate.maxTxnBytes();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
