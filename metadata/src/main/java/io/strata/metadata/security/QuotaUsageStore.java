package io.strata.metadata.security;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What each node's clients used of their quotas lately, so that every node can take its share of a principal's
 * cluster-wide quota. A node's figures live as long as it renews them: a node that stops (or is cut off) has its
 * share handed back within {@link #TTL}.
 */
public interface QuotaUsageStore extends AutoCloseable {
    Duration TTL = Duration.ofSeconds(10);

    /** This node's usage per quota entity, replacing what it published before. */
    CompletableFuture<Void> publish(String nodeId, Map<String, QuotaRates> usage);

    /** Every node's published usage, by node id. */
    CompletableFuture<Map<String, Map<String, QuotaRates>>> read();

    /** Withdraws this node's figures. */
    @Override
    void close();
}
