package io.strata.metadata.security;

import io.strata.metadata.KeyLayout;
import io.strata.metadata.codec.SecurityCodec;
import io.strata.metadata.kv.KvLease;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link QuotaUsageStore} over the key-value seam: one key per node under {@code {root}/quota-usage/}, on a lease. */
public final class KvQuotaUsageStore implements QuotaUsageStore {
    private static final Logger LOG = LoggerFactory.getLogger(KvQuotaUsageStore.class);
    private final KvStore kv;
    private final KeyLayout keys;
    private KvLease lease;
    private boolean closed;

    public KvQuotaUsageStore(KvStore kv, KeyLayout keys) {
        this.kv = kv;
        this.keys = keys;
    }

    @Override
    public CompletableFuture<Void> publish(String nodeId, Map<String, QuotaRates> usage) {
        return lease().thenCompose(l -> kv.txn(List.of(), List.of(new KvOp.Put(keys.quotaUsage(nodeId),
                SecurityCodec.encode(usage), l.id())))).thenApply(r -> null);
    }

    /** The lease the figures live under, granted again when lost: figures must never outlive their node. */
    private synchronized CompletableFuture<KvLease> lease() {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("closed"));
        }
        if (lease != null && !lease.lost().isDone()) {
            return CompletableFuture.completedFuture(lease);
        }
        return kv.grantLease(TTL).thenApply(granted -> {
            synchronized (this) {
                if (closed) {
                    granted.close();
                    throw new IllegalStateException("closed");
                }
                if (lease != null) {
                    lease.close();
                }
                lease = granted;
                return granted;
            }
        });
    }

    @Override
    public CompletableFuture<Map<String, Map<String, QuotaRates>>> read() {
        return kv.range(keys.quotaUsagePrefix()).thenApply(range -> {
            Map<String, Map<String, QuotaRates>> byNode = new HashMap<>();
            range.entries().forEach(e -> {
                try {
                    byNode.put(e.key().substring(keys.quotaUsagePrefix().length()),
                            SecurityCodec.decodeUsage(e.key(), e.value()));
                } catch (RuntimeException bad) {
                    LOG.warn("ignoring {}: {}", e.key(), bad.getMessage());
                }
            });
            return byNode;
        });
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (lease != null) {
            lease.close(); // deletes the figures
            lease = null;
        }
    }
}
