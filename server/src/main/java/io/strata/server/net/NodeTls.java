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
    /** Why loading failed: every later use fails the same way, never with half the identities loaded. */
    private RuntimeException failed;

    /** The gRPC client port's server context (HTTP/2 over ALPN), or empty for plaintext. */
    public Optional<SslContext> grpcServer() {
        load();
        return Optional.ofNullable(keys).map(k -> build(clientCertificates(GrpcSslContexts.configure(
                SslContextBuilder.forServer(k)))));
    }

    /** The Kafka listener's server context, or empty for plaintext. */
    public Optional<SslContext> kafkaServer() {
        load();
        return Optional.ofNullable(keys).map(k -> build(clientCertificates(SslContextBuilder.forServer(k))));
    }

    /** Asks for (or requires) client certificates of the clients' CA, as strata.tls.client-auth says. */
    private SslContextBuilder clientCertificates(SslContextBuilder builder) {
        ClientAuth mode = clientAuth(config.tls());
        return mode == ClientAuth.NONE ? builder
                : builder.trustManager(new File(config.tls().clientCa().orElseThrow())).clientAuth(mode);
    }

    private static ClientAuth clientAuth(StrataConfig.Tls tls) {
        return switch (tls.clientAuth()) {
            case "none" -> ClientAuth.NONE;
            case "request" -> ClientAuth.OPTIONAL;
            case "required" -> ClientAuth.REQUIRE;
            default -> throw new IllegalStateException("strata.tls.client-auth is none, request or required, not '"
                    + tls.clientAuth() + "'");
        };
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
        if (failed != null) {
            throw failed;
        }
        if (read) {
            return;
        }
        try {
            loadNow();
            read = true;
        } catch (RuntimeException e) {
            failed = e;
            close();
            keys = null;
            internalKeys = null;
            throw e;
        }
    }

    private void loadNow() {
        StrataConfig.Tls tls = config.tls();
        org.eclipse.microprofile.config.Config all = org.eclipse.microprofile.config.ConfigProvider.getConfig();
        for (String own : java.util.List.of("quarkus.grpc.server.ssl.certificate", "quarkus.grpc.server.ssl.key-store",
                "quarkus.grpc.server.tls-configuration-name")) {
            if (all.getOptionalValue(own, String.class).isPresent()) {
                // Quarkus's own TLS would replace this context after it is set: no reload, no check of the rest.
                throw new IllegalStateException(own + " is set: give the node's certificate with strata.tls.certificate "
                        + "and strata.tls.key instead (docs/security.md)");
            }
        }
        if (tls.certificate().isPresent() && !all.getOptionalValue("quarkus.grpc.server.use-separate-server",
                Boolean.class).orElse(true)) {
            throw new IllegalStateException("strata.tls.* sets up the separate gRPC server; "
                    + "quarkus.grpc.server.use-separate-server=false would leave the client port plaintext");
        }
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
        if (clientAuth(tls) != ClientAuth.NONE) {
            if (tls.certificate().isEmpty()) {
                throw new IllegalStateException("strata.tls.client-auth=" + tls.clientAuth()
                        + " needs the node's own certificate (strata.tls.certificate and strata.tls.key)");
            }
            File ca = new File(tls.clientCa().orElseThrow(() -> new IllegalStateException("strata.tls.client-auth="
                    + tls.clientAuth() + " needs strata.tls.client-ca: the CA whose client certificates are accepted")));
            if (!ca.isFile() || !ca.canRead()) {
                throw new IllegalStateException("cannot read the client CA " + ca + " (strata.tls.client-ca)");
            }
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
            if (!internalCa.isFile() || !internalCa.canRead()) {
                throw new IllegalStateException("cannot read the node CA " + internalCa + " (strata.tls.internal.ca)");
            }
        }
    }

    /** A key manager of this certificate and key, which takes them again when both files changed. */
    private AdvancedTlsX509KeyManager identity(File certificate, File key, long everyMs, String settings) {
        for (File f : new File[] {certificate, key}) {
            if (!f.isFile() || !f.canRead()) {
                throw new IllegalStateException("cannot read " + f + " (" + settings + ")");
            }
        }
        long[] seen = {certificate.lastModified(), key.lastModified()}; // before reading: a change meanwhile is seen
        AdvancedTlsX509KeyManager k = new AdvancedTlsX509KeyManager();
        try {
            update(k, certificate, key);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the TLS certificate " + certificate + " and key " + key
                    + " (" + settings + "): " + e.getMessage(), e);
        }
        // grpc-java's own file watch checks no more often than once a minute; renewals are looked for here.
        reloader.scheduleWithFixedDelay(() -> reload(k, certificate, key, seen), everyMs, everyMs, TimeUnit.MILLISECONDS);
        return k;
    }

    /**
     * Takes the files again once either changed since they were last read (a renewal may keep its key). A pair
     * that does not load, or whose key is not the certificate's (a renewal half written), keeps the previous
     * one, and is tried again at the next check.
     */
    private static void reload(AdvancedTlsX509KeyManager k, File certificate, File key, long[] seen) {
        long c = certificate.lastModified();
        long p = key.lastModified();
        if ((c == seen[0] && p == seen[1]) || c == 0 || p == 0) {
            return;
        }
        try {
            update(k, certificate, key);
            seen[0] = c;
            seen[1] = p;
            LOG.infof("TLS certificate %s and key %s read again: new connections are served the renewed certificate",
                    certificate, key);
        } catch (Exception e) {
            LOG.warnf("cannot read the renewed TLS certificate %s and key %s (%s): the previous ones are served",
                    certificate, key, e.getMessage());
        }
    }

    /** Loads the pair into {@code k} once the key is shown to be the certificate's (it signs what the certificate verifies). */
    private static void update(AdvancedTlsX509KeyManager k, File certificate, File key) throws Exception {
        java.security.PrivateKey privateKey;
        java.security.cert.X509Certificate[] chain;
        try (java.io.InputStream in = new java.io.FileInputStream(key)) {
            privateKey = io.grpc.util.CertificateUtils.getPrivateKey(in);
        }
        try (java.io.InputStream in = new java.io.FileInputStream(certificate)) {
            chain = io.grpc.util.CertificateUtils.getX509Certificates(in);
        }
        if (chain.length == 0) {
            throw new java.security.GeneralSecurityException("no certificate in " + certificate);
        }
        String algorithm = switch (privateKey.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new java.security.GeneralSecurityException("unsupported key type " + privateKey.getAlgorithm());
        };
        byte[] probe = "strata".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        java.security.Signature sign = java.security.Signature.getInstance(algorithm);
        sign.initSign(privateKey);
        sign.update(probe);
        byte[] signature = sign.sign();
        java.security.Signature verify = java.security.Signature.getInstance(algorithm);
        verify.initVerify(chain[0].getPublicKey());
        verify.update(probe);
        if (!verify.verify(signature)) {
            throw new java.security.GeneralSecurityException("the key in " + key + " is not the key of the certificate in "
                    + certificate);
        }
        k.updateIdentityCredentials(chain, privateKey);
    }

    /** Whether the client ports speak TLS. */
    public boolean clientPortsEncrypted() {
        load();
        return keys != null;
    }

    @PreDestroy
    synchronized void close() {
        if (reloader != null) {
            reloader.shutdownNow();
        }
    }
}
