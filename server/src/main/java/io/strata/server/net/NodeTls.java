package io.strata.server.net;

import io.grpc.netty.GrpcSslContexts;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.strata.server.config.StrataConfig;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.io.File;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * The node's TLS identities. On the ports clients use (gRPC and the Kafka listener): its certificate and key.
 * On the node-to-node port: mutual TLS with a certificate of a CA of its own, which signs node certificates
 * only, so a client's certificate opens nothing there; nodes dial each other under the name
 * {@value #INTERNAL_NAME}, which their certificates carry whatever their addresses. Certificates and keys are
 * PEM files read again when they change ({@code strata.tls.reload-interval}): a renewal (cert-manager writes a
 * Secret's files in place) reaches new connections without a restart, while live connections and their streams
 * keep the session they have. Without a certificate every port speaks plaintext.
 */
@Singleton
public class NodeTls {
    /** The name node certificates are issued for and nodes check when they dial each other. */
    public static final String INTERNAL_NAME = "strata-internal";
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(NodeTls.class);

    @Inject
    StrataConfig config;

    private AdvancedTlsX509KeyManager keys;
    private AdvancedTlsX509KeyManager internalKeys;
    private File internalCa;
    private ScheduledExecutorService reloader;
    private boolean read;

    /** The gRPC client port's server context (HTTP/2 over ALPN), or empty for plaintext. */
    public Optional<SslContext> grpcServer() {
        load();
        return Optional.ofNullable(keys).map(k -> build(GrpcSslContexts.configure(SslContextBuilder.forServer(k))));
    }

    /** The Kafka listener's server context, or empty for plaintext. */
    public Optional<SslContext> kafkaServer() {
        load();
        return Optional.ofNullable(keys).map(k -> build(SslContextBuilder.forServer(k)));
    }

    /** The node-to-node port's server context: a peer must present a node certificate. Empty for plaintext. */
    public Optional<SslContext> internalServer() {
        load();
        return Optional.ofNullable(internalKeys).map(k -> build(GrpcSslContexts.configure(SslContextBuilder
                .forServer(k).trustManager(internalCa).clientAuth(ClientAuth.REQUIRE))));
    }

    /** How this node dials another's node-to-node port: with its node certificate. Empty for plaintext. */
    public Optional<SslContext> internalClient() {
        load();
        return Optional.ofNullable(internalKeys).map(k -> build(GrpcSslContexts.configure(SslContextBuilder
                .forClient().keyManager(k).trustManager(internalCa))));
    }

    private static SslContext build(SslContextBuilder builder) {
        try {
            return builder.build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    private synchronized void load() {
        if (read) {
            return;
        }
        read = true;
        StrataConfig.Tls tls = config.tls();
        StrataConfig.Tls.Internal internal = tls.internal();
        if (tls.certificate().isPresent() != tls.key().isPresent()) {
            throw new IllegalStateException("strata.tls.certificate and strata.tls.key come together: "
                    + (tls.certificate().isPresent() ? "the key" : "the certificate") + " is missing");
        }
        int internalParts = (internal.certificate().isPresent() ? 1 : 0) + (internal.key().isPresent() ? 1 : 0)
                + (internal.ca().isPresent() ? 1 : 0);
        if (internalParts % 3 != 0 || (tls.certificate().isPresent() && internalParts == 0)) {
            throw new IllegalStateException("the node-to-node port's mutual TLS needs strata.tls.internal.certificate, "
                    + "strata.tls.internal.key and strata.tls.internal.ca together, and once the client ports have "
                    + "TLS (strata.tls.certificate) it needs them: a node certificate of a CA of its own");
        }
        if (tls.certificate().isEmpty() && internalParts == 0) {
            return;
        }
        reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-tls-reload");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(100, tls.reloadInterval().toMillis());
        if (tls.certificate().isPresent()) {
            keys = identity(new File(tls.certificate().get()), new File(tls.key().get()), every,
                    "strata.tls.certificate, strata.tls.key");
        }
        if (internalParts == 3) {
            internalKeys = identity(new File(internal.certificate().get()), new File(internal.key().get()), every,
                    "strata.tls.internal.certificate, strata.tls.internal.key");
            internalCa = new File(internal.ca().get());
            if (!internalCa.canRead()) {
                throw new IllegalStateException("cannot read the node CA " + internalCa + " (strata.tls.internal.ca)");
            }
        }
    }

    /** A key manager of this certificate and key, which takes them again when both files changed. */
    private AdvancedTlsX509KeyManager identity(File certificate, File key, long everyMs, String settings) {
        AdvancedTlsX509KeyManager k = new AdvancedTlsX509KeyManager();
        try {
            k.updateIdentityCredentials(certificate, key);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the TLS certificate " + certificate + " and key " + key
                    + " (" + settings + "): " + e.getMessage(), e);
        }
        // grpc-java's own file watch checks no more often than once a minute; renewals are looked for here.
        long[] seen = {certificate.lastModified(), key.lastModified()};
        reloader.scheduleWithFixedDelay(() -> reload(k, certificate, key, seen), everyMs, everyMs, TimeUnit.MILLISECONDS);
        return k;
    }

    /**
     * Takes the files again once both changed since they were last read (a renewal writes both; one alone is a
     * renewal half written). A pair that does not load keeps the previous one, and is tried again.
     */
    private static void reload(AdvancedTlsX509KeyManager k, File certificate, File key, long[] seen) {
        long c = certificate.lastModified();
        long p = key.lastModified();
        if (c == seen[0] || p == seen[1] || c == 0 || p == 0) {
            return;
        }
        try {
            k.updateIdentityCredentials(certificate, key);
            seen[0] = c;
            seen[1] = p;
            LOG.infof("TLS certificate %s and key %s read again: new connections are served the renewed certificate",
                    certificate, key);
        } catch (Exception e) {
            LOG.warnf("cannot read the renewed TLS certificate %s and key %s (%s): the previous ones are served",
                    certificate, key, e.getMessage());
        }
    }

    @PreDestroy
    synchronized void close() {
        if (reloader != null) {
            reloader.shutdownNow();
        }
    }
}
