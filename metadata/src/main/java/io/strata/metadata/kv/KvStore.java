package io.strata.metadata.kv;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A small, etcd-shaped key-value store: revisions, guarded multi-key transactions, prefix ranges, watches
 * from a revision, and leases. It is the seam under {@link io.strata.metadata.MetadataStore}: the commit
 * protocol, key layout and codecs are written once over it, and each adapter (etcd over the network, the
 * embedded file store) only has to keep these semantics, which {@code KvStoreContract} proves for both.
 *
 * <p>Thread-safe. Every future completes within the adapter's timeout; failures are
 * {@link io.strata.metadata.MetadataException}s. A failed {@link #txn} may or may not have been applied:
 * callers that must know read back what they wrote.
 */
public interface KvStore extends AutoCloseable {

    CompletableFuture<Optional<KeyValue>> get(String key);

    /** The keys that exist among {@code keys}, read at one revision. At most {@link #maxTxnOps()} keys. */
    default CompletableFuture<KvRange> getAll(Collection<String> keys) {
        return getAll(keys, List.of());
    }

    /**
     * The keys that exist among {@code keys} and the first keys of each of {@code ranges}, all read at one
     * revision (one round trip): a reader's point reads and the few keys past what it has seen of a prefix.
     * At most {@link #maxTxnOps()} keys and ranges together.
     */
    CompletableFuture<KvRange> getAll(Collection<String> keys, List<KeyRange> ranges);

    /** Every key starting with {@code prefix}, read at one revision, in key order. */
    CompletableFuture<KvRange> range(String prefix);

    /**
     * Every key from {@code fromKey} (included) up to {@code toKey} (excluded), read at one revision, in key
     * order: a part of a prefix, such as the index entries of a shard after the last one a reader has seen.
     */
    CompletableFuture<KvRange> range(String fromKey, String toKey);

    /** Applies {@code ops} atomically if every guard holds. At most {@link #maxTxnOps()} guards and ops each. */
    CompletableFuture<TxnResult> txn(List<KvGuard> guards, List<KvOp> ops);

    /** Changes of keys starting with {@code prefix} after {@code afterRevision}, until the handle is closed. */
    AutoCloseable watch(String prefix, long afterRevision, KvWatchListener listener);

    /**
     * Discards the history of changes before {@code revision} (etcd's compaction), so the store does not grow
     * with every revision ever written. Watches from before it break and their owners read again; compacting
     * to a revision already compacted succeeds.
     */
    CompletableFuture<Void> compact(long revision);

    /** A lease with this TTL (whole seconds, at least one), kept alive until closed. */
    CompletableFuture<KvLease> grantLease(Duration ttl);

    /**
     * A lease of this TTL (whole seconds, at least one) that only {@link #renewLease} keeps alive: the session of
     * a client that is not itself connected to the store (a consumer group member, through its heartbeats).
     * Answers the lease id.
     */
    CompletableFuture<Long> grantSessionLease(Duration ttl);

    /** Extends the lease by its full TTL from now; false when it is gone (expired or revoked). */
    CompletableFuture<Boolean> renewLease(long id);

    /** Revokes the lease, deleting its keys; a lease already gone counts as revoked. */
    CompletableFuture<Void> revokeLease(long id);

    /**
     * The bytes the store takes where it keeps them: etcd's backend database as the member answering reports it
     * (what its space quota is held against), the embedded store's files. For a gauge and its alert.
     */
    CompletableFuture<Long> sizeBytes();

    /** The most guards, and the most ops, one transaction may hold (etcd's default is 128). */
    int maxTxnOps();

    /** The most bytes one transaction should carry (etcd's default request limit is 1.5 MiB). */
    int maxTxnBytes();

    @Override
    void close();
}
