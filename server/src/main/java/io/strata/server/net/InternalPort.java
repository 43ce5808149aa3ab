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
    /** How long a dialer's connection is quiet before it pings the peer. */
    private static final long KEEP_ALIVE_TIME_S = 20;
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
                .maxInboundMessageSize(maxMessage)
                .permitKeepAliveTime(KEEP_ALIVE_TIME_S / 2, TimeUnit.SECONDS) // the dialers' pings are welcome
                // and this side pings too: a stream to a caller gone without a word (one watching the tail readers)
                // ends rather than gather what it is sent.
                .keepAliveTime(KEEP_ALIVE_TIME_S, TimeUnit.SECONDS).keepAliveTimeout(10, TimeUnit.SECONDS);
        if (server.isPresent()) {
            // Mutual TLS with the node CA, and a certificate that names a node: one the same CA signed for a
            // client (an operator's shortcut) is not a node's.
            builder.sslContext(server.get()).addService(io.grpc.ServerInterceptors.intercept(service,
                    new NodeCertificatesOnly()));
        } else {
            builder.addService(service);
        }
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
            // Pings on an open stream (a watch of tail readers, a check-back stream): a peer gone without a word
            // (a partition, a frozen node) ends it within half a minute rather than leave it looking alive.
            NettyChannelBuilder b = NettyChannelBuilder.forTarget(address).maxInboundMessageSize(maxMessage)
                    .keepAliveTime(KEEP_ALIVE_TIME_S, TimeUnit.SECONDS).keepAliveTimeout(10, TimeUnit.SECONDS);
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

    /** Refuses a call whose peer's certificate does not name {@link NodeTls#INTERNAL_NAME} (PERMISSION_DENIED). */
    static final class NodeCertificatesOnly implements io.grpc.ServerInterceptor {
        @Override
        public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call,
                io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, R> next) {
            javax.net.ssl.SSLSession session = call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_SSL_SESSION);
            if (!namesNode(session)) {
                call.close(io.grpc.Status.PERMISSION_DENIED.withDescription("the node-to-node port takes node "
                        + "certificates only (their subject alternative names hold " + NodeTls.INTERNAL_NAME + ")"),
                        new io.grpc.Metadata());
                return new io.grpc.ServerCall.Listener<>() {
                };
            }
            return next.startCall(call, headers);
        }

        static boolean namesNode(javax.net.ssl.SSLSession session) {
            if (session == null) {
                return false;
            }
            try {
                java.security.cert.Certificate[] peer = session.getPeerCertificates();
                if (peer.length == 0 || !(peer[0] instanceof java.security.cert.X509Certificate x509)
                        || x509.getSubjectAlternativeNames() == null) {
                    return false;
                }
                for (java.util.List<?> name : x509.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(name.get(0)) && NodeTls.INTERNAL_NAME.equals(name.get(1))) {
                        return true; // a DNS name
                    }
                }
                return false;
            } catch (javax.net.ssl.SSLPeerUnverifiedException | java.security.cert.CertificateParsingException e) {
                return false;
            }
        }
    }
}
