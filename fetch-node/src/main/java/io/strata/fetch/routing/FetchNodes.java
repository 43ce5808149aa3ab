package io.strata.fetch.routing;

import io.strata.format.Sharding;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.NodeInfo;
import io.strata.metadata.PartitionId;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live fetch nodes as registered in the metadata store, re-read every {@code refreshMillis}, and which
 * of them owns a partition: the first in the rendezvous ranking of the partition
 * ({@link Sharding#partitionKey}) over their addresses, exactly as clients rank them to pick where to read.
 * A node joining or leaving moves only its own share of partitions. Thread-safe.
 */
public final class FetchNodes implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FetchNodes.class);

    private final MetadataStore metadata;
    private final ScheduledFuture<?> refresher;
    private volatile List<String> addresses = List.of();
    private volatile java.util.Map<String, String> internalAddresses = java.util.Map.of();

    public FetchNodes(MetadataStore metadata, ScheduledExecutorService timer, long refreshMillis) {
        this.metadata = metadata;
        this.refresher = timer.scheduleWithFixedDelay(this::refresh, 0, refreshMillis, TimeUnit.MILLISECONDS);
    }

    /** Reads the live nodes again now (after this node registered itself, say), not at the next tick. */
    public void refresh() {
        metadata.listNodes().whenComplete((nodes, failure) -> {
            if (failure != null) {
                LOG.debug("listing the fetch nodes failed; keeping the last list", failure);
                return;
            }
            List<NodeInfo> fetchNodes = nodes.stream().filter(n -> n.roles().contains("fetch")).toList();
            internalAddresses = fetchNodes.stream().collect(java.util.stream.Collectors.toUnmodifiableMap(
                    NodeInfo::address, NodeInfo::internalAddress, (a, b) -> a));
            addresses = fetchNodes.stream().map(NodeInfo::address).sorted().toList();
        });
    }

    /** The live fetch nodes' addresses, sorted; empty until first read. */
    public List<String> addresses() {
        return addresses;
    }

    /** The address of the fetch node that owns the partition, or null when none is known. */
    public String owner(PartitionId partition) {
        return Sharding.owner(Sharding.partitionKey(partition.topicId(), partition.partition()), addresses);
    }

    /** Where the fetch node known to clients at {@code address} takes node-to-node calls; null when unknown. */
    public String internalAddress(String address) {
        return internalAddresses.get(address);
    }

    @Override
    public void close() {
        refresher.cancel(false);
    }
}
