package io.strata.metadata.kv;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the requests to the store that fail (unreachable, timed out, refused): what an operator is alerted on
 * before the node's own retries run out. A transaction whose guards did not hold is an answer, not a failure.
 */
public final class CountingKvStore extends ForwardingKvStore {
    private final LongAdder failures = new LongAdder();

    public CountingKvStore(KvStore delegate) {
        super(delegate);
    }

    /** Requests that failed since the store opened. */
    public long failures() {
        return failures.sum();
    }

    private <T> CompletableFuture<T> counted(CompletableFuture<T> request) {
        return request.whenComplete((ok, failure) -> {
            if (failure != null) {
                failures.increment();
            }
        });
    }

    @Override
    public CompletableFuture<Optional<KeyValue>> get(String key) {
        return counted(delegate.get(key));
    }

    @Override
    public CompletableFuture<KvRange> range(String prefix) {
        return counted(delegate.range(prefix));
    }

    @Override
    public CompletableFuture<KvRange> getAll(Collection<String> keys, List<KeyRange> ranges) {
        return counted(delegate.getAll(keys, ranges));
    }

    @Override
    public CompletableFuture<KvRange> range(String fromKey, String toKey) {
        return counted(delegate.range(fromKey, toKey));
    }

    @Override
    public CompletableFuture<TxnResult> txn(List<KvGuard> guards, List<KvOp> ops) {
        return counted(delegate.txn(guards, ops));
    }

    @Override
    public CompletableFuture<Void> compact(long revision) {
        return counted(delegate.compact(revision));
    }

    @Override
    public CompletableFuture<KvLease> grantLease(Duration ttl) {
        return counted(delegate.grantLease(ttl));
    }

    @Override
    public CompletableFuture<Long> grantSessionLease(Duration ttl) {
        return counted(delegate.grantSessionLease(ttl));
    }

    @Override
    public CompletableFuture<Boolean> renewLease(long id) {
        return counted(delegate.renewLease(id));
    }

    @Override
    public CompletableFuture<Void> revokeLease(long id) {
        return counted(delegate.revokeLease(id));
    }
}
