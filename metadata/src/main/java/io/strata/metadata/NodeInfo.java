package io.strata.metadata;

import java.util.Set;

/**
 * A live node as it registers itself: where clients reach its gRPC services ({@code address}), where other
 * nodes reach its node-to-node services ({@code internalAddress}, a port the client-facing Service does not
 * expose), where Kafka clients reach it ({@code kafkaAddress}, empty when it runs no Kafka listener), which
 * roles it runs, the zone it runs in ({@code zone}, empty when not said) and the Strata version it runs
 * ({@code version}, empty for a node registered before nodes said).
 */
public record NodeInfo(String nodeId, String address, String internalAddress, Set<String> roles, long startedAtMs,
                       String kafkaAddress, String zone, String version) {
    public NodeInfo {
        if (nodeId == null || nodeId.isEmpty() || !nodeId.matches("[A-Za-z0-9._-]+") || address == null
                || internalAddress == null || kafkaAddress == null || zone == null || version == null) {
            throw new IllegalArgumentException("invalid node " + nodeId);
        }
        roles = Set.copyOf(roles);
    }

    /** A node that does not say its version. */
    public NodeInfo(String nodeId, String address, String internalAddress, Set<String> roles, long startedAtMs,
                    String kafkaAddress, String zone) {
        this(nodeId, address, internalAddress, roles, startedAtMs, kafkaAddress, zone, "");
    }

    /** A node without a Kafka listener or a zone. */
    public NodeInfo(String nodeId, String address, String internalAddress, Set<String> roles, long startedAtMs) {
        this(nodeId, address, internalAddress, roles, startedAtMs, "", "");
    }
}
