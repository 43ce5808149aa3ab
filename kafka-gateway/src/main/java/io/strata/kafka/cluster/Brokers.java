package io.strata.kafka.cluster;

import io.strata.format.Sharding;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.NodeInfo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live nodes with a Kafka listener, re-read from the metadata store every {@code refreshMillis}, and
 * which of them Kafka clients are told to use for a partition. The leader of a partition is the ingest node
 * ranked first for its metadata shard (rendezvous hashing over gRPC addresses, exactly as Strata's own
 * clients rank them), so the Kafka door keeps the soft affinity that makes one node commit a shard; any
 * ingest node accepts any partition, so a stale answer costs a retry, never an error. The node that serves
 * a partition's reads is the fetch node that owns it. This node is always among the brokers, also before
 * its registration is read back. Thread-safe.
 */
public final class Brokers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Brokers.class);

    private final MetadataStore metadata;
    private final Broker self;
    private final ScheduledFuture<?> refresher;
    private volatile View view;

    /** {@code registered}: this node was among the registrations last read (until then it coordinates nothing). */
    private record View(Map<Integer, Broker> byId, List<Broker> ingest, List<Broker> fetch, boolean registered) {
    }

    public Brokers(MetadataStore metadata, Broker self, ScheduledExecutorService timer, long refreshMillis) {
        this.metadata = metadata;
        this.self = self;
        this.view = viewOf(List.of(self), false);
        this.refresher = timer.scheduleWithFixedDelay(this::refresh, 0, refreshMillis, TimeUnit.MILLISECONDS);
    }

    /** Reads the live nodes again now; completes when the view is replaced (or kept, on a failed read). */
    public java.util.concurrent.CompletableFuture<Void> refresh() {
        return metadata.listNodes().handle((nodes, failure) -> {
            if (failure != null) {
                LOG.debug("listing the nodes failed; keeping the last list of brokers", failure);
                return null;
            }
            List<Broker> brokers = new ArrayList<>();
            brokers.add(self);
            nodes.stream().sorted(Comparator.comparingLong(NodeInfo::startedAtMs))
                    .filter(n -> !n.nodeId().equals(self.nodeId()) && !n.kafkaAddress().isEmpty())
                    .forEach(n -> brokers.add(brokerOf(n)));
            view = viewOf(brokers, nodes.stream().anyMatch(n -> n.nodeId().equals(self.nodeId())));
            return null;
        });
    }

    private static Broker brokerOf(NodeInfo n) {
        String address = n.kafkaAddress();
        int colon = address.lastIndexOf(':');
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new Broker(BrokerIds.of(n.nodeId()), n.nodeId(), host, Integer.parseInt(address.substring(colon + 1)),
                n.address(), n.roles(), n.zone().isEmpty() ? null : n.zone());
    }

    private static View viewOf(List<Broker> brokers, boolean registered) {
        Map<Integer, Broker> byId = new LinkedHashMap<>();
        for (Broker b : brokers) {
            Broker clash = byId.putIfAbsent(b.id(), b);
            if (clash != null && !clash.nodeId().equals(b.nodeId())) {
                LOG.warn("nodes {} and {} map to one Kafka broker id {}; Kafka clients see only {}", clash.nodeId(),
                        b.nodeId(), b.id(), clash.nodeId());
            }
        }
        List<Broker> kept = List.copyOf(byId.values());
        return new View(java.util.Collections.unmodifiableMap(byId), kept.stream().filter(Broker::ingests).toList(),
                kept.stream().filter(Broker::fetches).toList(), registered);
    }

    public Broker self() {
        return self;
    }

    /** The brokers, this node first. */
    public List<Broker> all() {
        return List.copyOf(view.byId().values());
    }

    public Broker byId(int id) {
        return view.byId().get(id);
    }

    /**
     * Where producers of the partition are sent; null when no ingest node has a Kafka listener. A client that
     * says its zone ({@code rack}, null: none) is sent to the ingest nodes of that zone when it has any, so its
     * records do not cross zones; any ingest node takes any partition, so this costs nothing but the shard's
     * affinity, which holds within each zone.
     */
    public Broker leader(long topicId, int partition, int shards, String rack) {
        View v = view;
        List<Broker> candidates = inRack(v.ingest(), rack);
        if (candidates.isEmpty()) {
            return null;
        }
        Map<String, Broker> byAddress = new LinkedHashMap<>();
        candidates.forEach(b -> byAddress.put(b.grpcAddress(), b));
        List<String> ranked = Sharding.rank(Sharding.shardOf(topicId, partition, shards), byAddress.keySet());
        return byAddress.get(ranked.get(0));
    }

    public Broker leader(long topicId, int partition, int shards) {
        return leader(topicId, partition, shards, null);
    }

    /**
     * The fetch node that serves the partition's reads; null when no fetch node has a Kafka listener. For a
     * client in zone {@code rack} (null: none), the owner among that zone's fetch nodes when it has any.
     */
    public Broker reader(long topicId, int partition, String rack) {
        View v = view;
        List<Broker> candidates = inRack(v.fetch(), rack);
        if (candidates.isEmpty()) {
            return null;
        }
        Map<String, Broker> byAddress = new LinkedHashMap<>();
        candidates.forEach(b -> byAddress.put(b.grpcAddress(), b));
        return byAddress.get(Sharding.owner(Sharding.partitionKey(topicId, partition), byAddress.keySet()));
    }

    public Broker reader(long topicId, int partition) {
        return reader(topicId, partition, null);
    }

    /**
     * Every node that may be named as the partition's read replica: its reader for clients of each zone and for
     * clients of none. Metadata lists them all among the replicas, since clients follow a preferred read replica
     * only to a node listed as one.
     */
    public java.util.Set<Broker> readers(long topicId, int partition) {
        java.util.Set<Broker> out = new java.util.LinkedHashSet<>();
        Broker any = reader(topicId, partition, null);
        if (any != null) {
            out.add(any);
        }
        view.fetch().stream().map(Broker::rack).filter(java.util.Objects::nonNull).distinct()
                .forEach(rack -> out.add(reader(topicId, partition, rack)));
        return out;
    }

    /** The brokers of {@code rack} when there are any (and a rack is given), else all of them. */
    private static List<Broker> inRack(List<Broker> brokers, String rack) {
        if (rack == null || rack.isEmpty()) {
            return brokers;
        }
        List<Broker> same = brokers.stream().filter(b -> rack.equals(b.rack())).toList();
        return same.isEmpty() ? brokers : same;
    }

    /**
     * The zone a client says it is in through its client id ({@code ...strata_az=ZONE...} or WarpStream's
     * {@code ws_az=ZONE}, separated by commas or semicolons): Metadata requests carry no rack, so this is how
     * producers pick their zone's ingest nodes. Null when the id names none.
     */
    public static String rackOfClientId(String clientId) {
        if (clientId == null) {
            return null;
        }
        for (String part : clientId.split("[,;]")) {
            String p = part.trim();
            for (String prefix : List.of("strata_az=", "ws_az=")) {
                int at = p.indexOf(prefix);
                if (at >= 0 && p.length() > at + prefix.length()) {
                    return p.substring(at + prefix.length());
                }
            }
        }
        return null;
    }

    /**
     * The broker that coordinates a group (or another key): rendezvous hashing over the brokers' node ids, so every
     * node names the same one while they see the same brokers, and a broker joining or leaving moves only its
     * own share. A node that is asked to coordinate a group it does not rank first answers NOT_COORDINATOR. This
     * node ranks only once its registration was read back: before, the others do not rank it, and two nodes
     * would each run the group. Null when no broker is known.
     */
    public Broker coordinator(String key) {
        View v = view;
        Map<String, Broker> byNode = new LinkedHashMap<>();
        v.byId().values().stream().filter(b -> v.registered() || !b.nodeId().equals(self.nodeId()))
                .forEach(b -> byNode.put(b.nodeId(), b));
        if (byNode.isEmpty()) {
            return null;
        }
        return byNode.get(Sharding.owner(Sharding.mix64(key.hashCode()), byNode.keySet()));
    }

    @Override
    public void close() {
        refresher.cancel(false);
    }
}
