package io.strata.client;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.ClusterServiceGrpc;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.format.Sharding;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Picks the node for a partition, by rendezvous hashing ({@link Sharding#rank}) over the live nodes of the
 * role; the first that is not marked down gets it, and a node joining or leaving moves only its own share.
 * <ul>
 *   <li>Ingest: the partition's metadata shard is ranked over the ingest nodes (soft affinity), so in the
 *   normal case one node commits a shard and commits rarely conflict.</li>
 *   <li>Fetch: the partition itself is ranked over the fetch nodes, so each chunk is read from the object
 *   store by about one node of the cluster. Ingest nodes rank the same way to hand fresh chunks over.</li>
 * </ul>
 * Correctness never depends on it: any node serves any partition, and when nothing is known of the cluster
 * (or the bootstrap node does not describe one) every request goes to the bootstrap node.
 *
 * <p>The view of the cluster is refreshed from DescribeCluster at most every {@code refresh}, and at once
 * after a node is marked down. Channels to nodes are made on first use and closed when their node leaves
 * the cluster or the router closes. Thread-safe; owned by {@link StrataClient}.
 */
final class NodeRouter implements AutoCloseable {
    /** How long a node that failed a request is passed over. */
    private static final long DOWN_MILLIS = 10_000;

    private static final MethodDescriptor<FetchRequest, FetchChunksResponse> FETCH_CHUNKS =
            FetchServiceGrpc.getFetchChunksMethod().toBuilder(ProtoUtils.marshaller(FetchRequest.getDefaultInstance()),
                    new AliasingMarshaller<>(FetchChunksResponse.getDefaultInstance())).build();

    private final ManagedChannel bootstrap;
    private final String bootstrapAddress;
    private final Function<String, ManagedChannel> connect;
    private final Admin admin;
    private final long refreshMillis;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final Map<String, Long> downUntil = new ConcurrentHashMap<>();
    private volatile View view = new View(0, List.of(), List.of(), 0);

    private record View(int shards, List<String> ingestNodes, List<String> fetchNodes, long readAtMillis) {
    }

    /** {@code connect} null: route everything to the bootstrap channel (in-process or custom transports). */
    NodeRouter(ManagedChannel bootstrap, String bootstrapAddress, Function<String, ManagedChannel> connect,
                 Admin admin, Duration refresh) {
        this.bootstrap = bootstrap;
        this.bootstrapAddress = bootstrapAddress;
        this.connect = connect;
        this.admin = admin;
        this.refreshMillis = refresh.toMillis();
    }

    /** Where a partition's records go: a node address (the bootstrap's when routing is off or unknown). */
    String ingestNodeFor(long topicId, int partition) {
        View current = current();
        if (current.shards() <= 0) {
            return pick(List.of());
        }
        return pick(Sharding.rank(Sharding.shardOf(topicId, partition, current.shards()), current.ingestNodes()));
    }

    /** Where a partition is read from: the owning fetch node, or the next live one (the bootstrap's when unknown). */
    String fetchNodeFor(long topicId, int partition) {
        return pick(Sharding.rank(Sharding.partitionKey(topicId, partition), current().fetchNodes()));
    }

    /** How many nodes may be tried for a fetch before giving up: each fetch node once, or the bootstrap. */
    int fetchCandidates() {
        return Math.max(1, current().fetchNodes().size());
    }

    private String pick(List<String> ranked) {
        if (ranked.isEmpty()) {
            return bootstrapAddress;
        }
        long now = System.currentTimeMillis();
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

    /** The channel to the node the client was given: group calls go there (every node serves groups). */
    io.grpc.Channel bootstrapChannel() {
        return bootstrap;
    }

    ProducerServiceGrpc.ProducerServiceStub producerStub(String address) {
        return ProducerServiceGrpc.newStub(channel(address));
    }

    ProducerServiceGrpc.ProducerServiceBlockingStub producerBlockingStub(String address) {
        return ProducerServiceGrpc.newBlockingStub(channel(address));
    }

    AdminServiceGrpc.AdminServiceBlockingStub adminBlockingStub(String address) {
        return AdminServiceGrpc.newBlockingStub(channel(address));
    }

    /** FetchChunks to the node; the answer's chunks are views of the bytes received ({@link AliasingMarshaller}). */
    ListenableFuture<FetchChunksResponse> fetchChunks(String address, FetchRequest request, long deadlineMillis) {
        CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
        return ClientCalls.futureUnaryCall(channel(address).newCall(FETCH_CHUNKS, options), request);
    }

    /** A request to the node failed as unreachable: pass it over for a while and look at the cluster again. */
    void markDown(String address) {
        if (!address.equals(bootstrapAddress) || connect != null) {
            downUntil.put(address, System.currentTimeMillis() + DOWN_MILLIS);
            View known = view;
            view = new View(known.shards(), known.ingestNodes(), known.fetchNodes(), 0); // refresh on next use
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
                next = new View(cluster.metadataShards(), cluster.addressesWithRole("ingest"),
                        cluster.addressesWithRole("fetch"), System.currentTimeMillis());
            } catch (StrataException e) {
                // Keep what was known (or nothing: the bootstrap node) and try again after the refresh time.
                next = new View(current.shards(), current.ingestNodes(), current.fetchNodes(), System.currentTimeMillis());
            }
            List<String> live = new ArrayList<>(next.ingestNodes());
            live.addAll(next.fetchNodes());
            closeChannelsNotIn(live);
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
        View current = current();
        m.put("ingest", current.ingestNodes());
        m.put("fetch", current.fetchNodes());
        return m;
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
        channels.clear();
    }
}
