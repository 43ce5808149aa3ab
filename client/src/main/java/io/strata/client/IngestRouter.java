package io.strata.client;

import io.grpc.ManagedChannel;
import io.strata.api.v1.ClusterServiceGrpc;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.format.Sharding;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Picks the ingest node for a partition: soft affinity. Each partition's metadata shard is ranked over the
 * live ingest nodes (rendezvous hashing, {@link Sharding#rank}); the first that is not marked down gets the
 * partition, so in the normal case one node commits a shard and commits rarely conflict. Correctness never
 * depends on it: any node accepts any partition, and when nothing is known of the cluster (or the bootstrap
 * node does not describe one) every request goes to the bootstrap node.
 *
 * <p>The view of the cluster is refreshed from DescribeCluster at most every {@code refresh}, and at once
 * after a node is marked down. Channels to nodes are made on first use and closed when their node leaves
 * the cluster or the router closes. Thread-safe; owned by {@link StrataClient}.
 */
final class IngestRouter implements AutoCloseable {
    /** How long a node that failed a request is passed over. */
    private static final long DOWN_MILLIS = 10_000;

    private final ManagedChannel bootstrap;
    private final String bootstrapAddress;
    private final Function<String, ManagedChannel> connect;
    private final Admin admin;
    private final long refreshMillis;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final Map<String, Long> downUntil = new ConcurrentHashMap<>();
    private volatile View view = new View(0, List.of(), 0);

    private record View(int shards, List<String> ingestNodes, long readAtMillis) {
    }

    /** {@code connect} null: route everything to the bootstrap channel (in-process or custom transports). */
    IngestRouter(ManagedChannel bootstrap, String bootstrapAddress, Function<String, ManagedChannel> connect,
                 Admin admin, Duration refresh) {
        this.bootstrap = bootstrap;
        this.bootstrapAddress = bootstrapAddress;
        this.connect = connect;
        this.admin = admin;
        this.refreshMillis = refresh.toMillis();
    }

    /** Where a partition's records go: a node address (the bootstrap's when routing is off or unknown). */
    String nodeFor(long topicId, int partition) {
        View current = current();
        if (current.ingestNodes().isEmpty() || current.shards() <= 0) {
            return bootstrapAddress;
        }
        int shard = Sharding.shardOf(topicId, partition, current.shards());
        long now = System.currentTimeMillis();
        List<String> ranked = Sharding.rank(shard, current.ingestNodes());
        for (String node : ranked) {
            if (downUntil.getOrDefault(node, 0L) <= now) {
                return node;
            }
        }
        return ranked.get(0);
    }

    String bootstrap() {
        return bootstrapAddress;
    }

    ProducerServiceGrpc.ProducerServiceStub producerStub(String address) {
        return ProducerServiceGrpc.newStub(channel(address));
    }

    ProducerServiceGrpc.ProducerServiceBlockingStub producerBlockingStub(String address) {
        return ProducerServiceGrpc.newBlockingStub(channel(address));
    }

    /** A request to the node failed as unreachable: pass it over for a while and look at the cluster again. */
    void markDown(String address) {
        if (!address.equals(bootstrapAddress) || connect != null) {
            downUntil.put(address, System.currentTimeMillis() + DOWN_MILLIS);
            view = new View(view.shards(), view.ingestNodes(), 0); // refresh on next use
        }
    }

    private ManagedChannel channel(String address) {
        if (connect == null || address.equals(bootstrapAddress)) {
            return bootstrap;
        }
        return channels.computeIfAbsent(address, connect);
    }

    private View current() {
        View current = view;
        if (connect == null || System.currentTimeMillis() - current.readAtMillis() < refreshMillis) {
            return current;
        }
        synchronized (this) {
            if (view != current) {
                return view;
            }
            View next;
            try {
                ClusterInfo cluster = admin.describeCluster(ClusterServiceGrpc.newBlockingStub(bootstrap));
                next = new View(cluster.metadataShards(), cluster.addressesWithRole("ingest"), System.currentTimeMillis());
            } catch (StrataException e) {
                // Keep what was known (or nothing: the bootstrap node) and try again after the refresh time.
                next = new View(current.shards(), current.ingestNodes(), System.currentTimeMillis());
            }
            closeChannelsNotIn(next.ingestNodes());
            view = next;
            return next;
        }
    }

    private void closeChannelsNotIn(List<String> live) {
        List<String> gone = new ArrayList<>();
        channels.keySet().forEach(a -> {
            if (!live.contains(a)) {
                gone.add(a);
            }
        });
        gone.forEach(a -> {
            ManagedChannel c = channels.remove(a);
            if (c != null) {
                c.shutdown();
            }
        });
    }

    /** The addresses the router knows, by role, for tests and diagnostics. */
    Map<String, List<String>> known() {
        Map<String, List<String>> m = new HashMap<>();
        m.put("ingest", current().ingestNodes());
        return m;
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
        channels.clear();
    }
}
