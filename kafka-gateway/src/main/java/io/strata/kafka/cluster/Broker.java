package io.strata.kafka.cluster;

import java.util.Set;

/**
 * A Strata node as Kafka clients see it: a broker with an id, where its Kafka listener is, and (for routing)
 * its gRPC address and roles. {@code rack} is null when the node names no zone.
 */
public record Broker(int id, String nodeId, String host, int port, String grpcAddress, Set<String> roles,
                     String rack) {
    public Broker {
        roles = Set.copyOf(roles);
    }

    public boolean ingests() {
        return roles.contains("ingest");
    }

    public boolean fetches() {
        return roles.contains("fetch");
    }
}
