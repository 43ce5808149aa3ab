package io.strata.metadata.kv;

import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * One key written or removed only at the revision its writer decided on: the compare-and-set that stores of
 * decided state (share partitions, delayed records, transactions) share.
 */
public final class KvCompareAndSet {
    private KvCompareAndSet() {
    }

    /**
     * Writes {@code value} if the key is still at {@code expectedRevision} (0: absent); answers the new revision, or
     * empty when another writer moved it first (nothing written).
     */
    public static CompletableFuture<OptionalLong> put(KvStore kv, String key, byte[] value, long expectedRevision) {
        KvGuard guard = expectedRevision == 0 ? KvGuard.absent(key) : new KvGuard(key, expectedRevision);
        return kv.txn(List.of(guard), List.of(new KvOp.Put(key, value, 0)))
                .thenApply(r -> r.succeeded() ? OptionalLong.of(r.revision()) : OptionalLong.empty());
    }

    /** Removes the key if it is still at {@code expectedRevision}; answers whether it did. */
    public static CompletableFuture<Boolean> delete(KvStore kv, String key, long expectedRevision) {
        return kv.txn(List.of(new KvGuard(key, expectedRevision)), List.of(new KvOp.Delete(key)))
                .thenApply(TxnResult::succeeded);
    }
}
