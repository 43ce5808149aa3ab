package io.strata.server.net;

import io.grpc.netty.GrpcSslContexts;
import io.grpc.util.AdvancedTlsX509KeyManager;
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
 * The node's TLS identity on the ports clients use (gRPC and the Kafka listener): its certificate and key, PEM
 * files re-read when they change ({@code strata.tls.reload-interval}), so that a renewal (cert-manager writes the
 * Secret's files in place) reaches new connections without a restart while live connections and their streams
 * keep the session they have. Absent when no certificate is configured: the ports speak plaintext.
 */
@Singleton
public class NodeTls {
    @Inject
    StrataConfig config;

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(NodeTls.class);

    private AdvancedTlsX509KeyManager keys;
    private ScheduledExecutorService reloader;
    private boolean read;

    /** True when the node has a certificate: its client ports speak TLS only. */
    public synchronized boolean enabled() {
        return keys().isPresent();
    }

    /** The gRPC client port's server context (HTTP/2 over ALPN), or empty for plaintext. */
    public Optional<SslContext> grpcServer() {
        return keys().map(k -> build(GrpcSslContexts.configure(SslContextBuilder.forServer(k))));
    }

    /** The Kafka listener's server context, or empty for plaintext. */
    public Optional<SslContext> kafkaServer() {
        return keys().map(k -> build(SslContextBuilder.forServer(k)));
    }

    private static SslContext build(SslContextBuilder builder) {
        try {
            return builder.build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    private synchronized Optional<AdvancedTlsX509KeyManager> keys() {
        if (!read) {
            read = true;
            StrataConfig.Tls tls = config.tls();
            if (tls.certificate().isPresent() != tls.key().isPresent()) {
                throw new IllegalStateException("strata.tls.certificate and strata.tls.key come together: "
                        + (tls.certificate().isPresent() ? "the key" : "the certificate") + " is missing");
            }
            if (tls.certificate().isPresent()) {
                File certificate = new File(tls.certificate().get());
                File key = new File(tls.key().get());
                reloader = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "strata-tls-reload");
                    t.setDaemon(true);
                    return t;
                });
                AdvancedTlsX509KeyManager k = new AdvancedTlsX509KeyManager();
                try {
                    k.updateIdentityCredentials(certificate, key);
                } catch (Exception e) {
                    reloader.shutdownNow();
                    throw new IllegalStateException("cannot read the node's TLS certificate " + certificate
                            + " and key " + key + " (strata.tls.certificate, strata.tls.key): " + e.getMessage(), e);
                }
                // grpc-java's own file watch checks no more often than once a minute; renewals are looked for here.
                long[] seen = {certificate.lastModified(), key.lastModified()};
                long every = Math.max(100, tls.reloadInterval().toMillis());
                reloader.scheduleWithFixedDelay(() -> reload(k, certificate, key, seen), every, every,
                        TimeUnit.MILLISECONDS);
                keys = k;
            }
        }
        return Optional.ofNullable(keys);
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
