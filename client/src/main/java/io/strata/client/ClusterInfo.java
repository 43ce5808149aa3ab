package io.strata.client;

import java.util.List;
import java.util.Set;

/** The cluster as a node describes it: its metadata shard count and live nodes. */
public record ClusterInfo(String clusterId, int metadataShards, List<Node> nodes) {
    public ClusterInfo {
        nodes = List.copyOf(nodes);
    }

    /** A live node: its id, its gRPC address (host:port) and its roles ("ingest", "fetch", ...). */
    public record Node(String nodeId, String address, Set<String> roles) {
    }

    /** The addresses of the nodes that run {@code role}. */
    public List<String> addressesWithRole(String role) {
        return nodes.stream().filter(n -> n.roles().contains(role)).map(Node::address).sorted().toList();
    }
}
