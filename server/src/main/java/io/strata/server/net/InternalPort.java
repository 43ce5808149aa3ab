package io.strata.server.net;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The node-to-node port (9402, {@code strata.internal.port}): node-to-node calls on a grpc-java Netty server of
 * their own, as the client port is, so the client-facing Service need not expose it and no client can hand
 * chunks to a fetch node's cache; and how this node dials other nodes' ones. Once TLS is on, both sides use
 * mutual TLS with node certificates only, under the one name {@link NodeTls#INTERNAL_NAME}. Owns its server.
 */
public final class InternalPort implements AutoCloseable {
    private final String host;
    private final int port;
    private final int maxMessage;
    private final Optional<SslContext> server;
    private final Optional<SslContext> client;
    private volatile Server started;

    /** {@code maxMessage}: the largest message either way ({@link #messageLimit}). */
    public InternalPort(String host, int port, int maxMessage, NodeTls tls) {
        this.host = host;
        this.port = port;
        this.maxMessage = maxMessage;
        this.server = tls.internalServer();
        this.client = tls.internalClient();
    }

    /**
     * The largest message on the port, either way: a hand-off of a block's chunks, or a read's answer for a node
     * without the fetch role (up to the largest max_bytes, and at least one record).
     */
    public static int messageLimit(long blockMaxBytes, int maxFetchBytes, int maxRecordBytes) {
        long handOff = 2 * blockMaxBytes + (1 << 20);
        long read = (long) maxFetchBytes + maxRecordBytes + (1 << 20);
        return (int) Math.min(Integer.MAX_VALUE, Math.max(16L << 20, Math.max(handOff, read)));
    }

    /** Serves {@code service} on the port; answers the port bound. */
    public int start(BindableService service) throws IOException {
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .addService(service).maxInboundMessageSize(maxMessage);
        server.ifPresent(builder::sslContext); // mutual TLS: node certificates only
        Server s = builder.build();
        try {
            s.start();
        } catch (IOException e) {
            throw new IOException("cannot listen on the internal port " + host + ":" + port
                    + " (strata.internal.port): " + e.getMessage(), e);
        }
        started = s;
        return s.getPort();
    }

    /** Whether the port takes node certificates only (TLS is on): calls on it then come from nodes. */
    public boolean nodesOnly() {
        return server.isPresent();
    }

    /** How this node opens a channel to another's node-to-node port: with its node certificate once TLS is on. */
    public Function<String, ManagedChannel> dialer() {
        return address -> {
            NettyChannelBuilder b = NettyChannelBuilder.forTarget(address).maxInboundMessageSize(maxMessage);
            if (client.isPresent()) {
                b.sslContext(client.get()).overrideAuthority(NodeTls.INTERNAL_NAME);
            } else {
                b.usePlaintext();
            }
            return b.build();
        };
    }

    /** Whether this node can dial others with a node certificate. */
    public boolean dialsAsNode() {
        return client.isPresent();
    }

    @Override
    public void close() throws InterruptedException {
        Server s = started;
        if (s != null) {
            s.shutdown();
            if (!s.awaitTermination(5, TimeUnit.SECONDS)) {
                s.shutdownNow();
            }
        }
    }
}
