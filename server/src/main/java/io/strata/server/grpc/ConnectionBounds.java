package io.strata.server.grpc;

import io.quarkus.grpc.api.ServerBuilderCustomizer;
import io.quarkus.grpc.runtime.config.GrpcServerConfiguration;
import io.strata.server.config.StrataConfig;
import io.vertx.grpc.VertxServerBuilder;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Sets up the client gRPC port: TLS with the node's certificate when it has one ({@link io.strata.server.net.NodeTls}),
 * and bounds of what one connection may hold: its open calls (a client opening streams without end waits for
 * its own to end) and its headers. Messages are bounded by
 * {@code quarkus.grpc.server.max-inbound-message-size}, checked against a message's length prefix before it is
 * read.
 */
@ApplicationScoped
public class ConnectionBounds implements ServerBuilderCustomizer<VertxServerBuilder> {
    @Inject
    StrataConfig config;

    @Inject
    io.strata.server.net.NodeTls tls;

    @Override
    public void customize(GrpcServerConfiguration serverConfig, VertxServerBuilder builder) {
        // The separate gRPC server (quarkus.grpc.server.use-separate-server) is grpc-java's Netty server.
        builder.nettyBuilder().maxConcurrentCallsPerConnection(config.grpc().maxCallsPerConnection())
                .maxInboundMetadataSize(config.grpc().maxMetadataBytes())
                .addTransportFilter(new ClientConnections(config.grpc().maxConnectionsPerAddress()));
        // With the node's certificate the port speaks TLS only, from a key manager that follows renewals.
        tls.grpcServer().ifPresent(builder.nettyBuilder()::sslContext);
    }
}
