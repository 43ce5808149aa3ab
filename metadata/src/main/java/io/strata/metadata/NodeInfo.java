package io.strata.metadata;

import java.util.Set;

/** A live node as it registers itself: where its gRPC endpoint is and which roles it runs. */
public record NodeInfo(String nodeId, String address, Set<String> roles, long startedAtMs) {
    public NodeInfo {
        if (nodeId == null || nodeId.isEmpty() || !nodeId.matches("[A-Za-z0-9._-]+") || address == null) {
            throw new IllegalArgumentException("invalid node " + nodeId);
        }
        roles = Set.copyOf(roles);
    }
}
