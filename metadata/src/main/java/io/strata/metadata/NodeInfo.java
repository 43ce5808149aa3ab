package io.strata.metadata;

import java.util.Set;

/**
 * A live node as it registers itself: where clients reach its gRPC services ({@code address}), where other
 * nodes reach its node-to-node services ({@code internalAddress}, a port the client-facing Service does not
 * expose), and which roles it runs.
 */
public record NodeInfo(String nodeId, String address, String internalAddress, Set<String> roles, long startedAtMs) {
    public NodeInfo {
        if (nodeId == null || nodeId.isEmpty() || !nodeId.matches("[A-Za-z0-9._-]+") || address == null
                || internalAddress == null) {
            throw new IllegalArgumentException("invalid node " + nodeId);
        }
        roles = Set.copyOf(roles);
    }
}
