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
import java.util.List;
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
 * PEM files (for the client ports, a PKCS#12 or JKS key store instead) read again when they change
 * ({@code strata.tls.reload-interval}): a renewal (cert-manager writes a Secret's files in place) reaches new
 * connections without a restart, while live connections and their streams keep the session they have. Without
 * a certificate every port speaks plaintext.
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
        return Optional.ofNullable(keys).map(k -> grpc(clientCertificates(GrpcSslContexts.configure(
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
        return Optional.ofNullable(internalKeys).map(k -> grpc(GrpcSslContexts.configure(SslContextBuilder
                .forServer(k).trustManager(internalCa).clientAuth(ClientAuth.REQUIRE))));
    }

    /** How this node dials another's node-to-node port: with its node certificate. Empty for plaintext. */
    public Optional<SslContext> internalClient() {
        load();
        return Optional.ofNullable(internalKeys).map(k -> grpc(GrpcSslContexts.configure(SslContextBuilder
                .forClient().keyManager(k).trustManager(internalCa))));
    }

    /** A context for gRPC's Netty transport: {@link WholeReadTls} says why it is wrapped. */
    private static SslContext grpc(SslContextBuilder builder) {
        return new WholeReadTls(build(builder));
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
        if ((tls.certificate().isPresent() || tls.keyStore().isPresent()) && !all.getOptionalValue(
                "quarkus.grpc.server.use-separate-server", Boolean.class).orElse(true)) {
            throw new IllegalStateException("strata.tls.* sets up the separate gRPC server; "
                    + "quarkus.grpc.server.use-separate-server=false would leave the client port plaintext");
        }
        StrataConfig.Tls.Internal internal = tls.internal();
        boolean pem = tls.certificate().isPresent() || tls.key().isPresent();
        if (pem && tls.keyStore().isPresent()) {
            throw new IllegalStateException("the node's certificate is given twice: either strata.tls.certificate and "
                    + "strata.tls.key (PEM files) or strata.tls.key-store, not both");
        }
        if (tls.keyStore().isEmpty() && (tls.keyStoreType().isPresent() || tls.keyStoreAlias().isPresent())) {
            throw new IllegalStateException("strata.tls.key-store-type and -alias describe a key store: "
                    + "strata.tls.key-store is missing");
        }
        if (tls.keyStore().isPresent() != tls.keyStorePassword().isPresent()) {
            throw new IllegalStateException(tls.keyStore().isPresent()
                    ? "strata.tls.key-store needs its password: strata.tls.key-store-password (STRATA_TLS_KEY_STORE_PASSWORD)"
                    : "strata.tls.key-store-password is set without strata.tls.key-store");
        }
        boolean identity = pem || tls.keyStore().isPresent();
        if (pem && tls.certificate().isPresent() != tls.key().isPresent()) {
            throw new IllegalStateException("strata.tls.certificate and strata.tls.key come together: "
                    + (tls.certificate().isPresent() ? "the key" : "the certificate") + " is missing");
        }
        int internalParts = (internal.certificate().isPresent() ? 1 : 0) + (internal.key().isPresent() ? 1 : 0)
                + (internal.ca().isPresent() ? 1 : 0);
        if (internalParts % 3 != 0 || (identity && internalParts == 0)) {
            throw new IllegalStateException("the node-to-node port's mutual TLS needs strata.tls.internal.certificate, "
                    + "strata.tls.internal.key and strata.tls.internal.ca together, and once the client ports have "
                    + "TLS (strata.tls.certificate or strata.tls.key-store) it needs them: a node certificate of a CA of "
                    + "its own");
        }
        if (clientAuth(tls) != ClientAuth.NONE) {
            if (!identity) {
                throw new IllegalStateException("strata.tls.client-auth=" + tls.clientAuth()
                        + " needs the node's own certificate (strata.tls.certificate and strata.tls.key, or "
                        + "strata.tls.key-store)");
            }
            File ca = new File(tls.clientCa().orElseThrow(() -> new IllegalStateException("strata.tls.client-auth="
                    + tls.clientAuth() + " needs strata.tls.client-ca: the CA whose client certificates are accepted")));
            if (!ca.isFile() || !ca.canRead()) {
                throw new IllegalStateException("cannot read the client CA " + ca + " (strata.tls.client-ca)");
            }
        }
        if (!identity && internalParts == 0) {
            return;
        }
        reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-tls-reload");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(100, tls.reloadInterval().toMillis());
        if (tls.certificate().isPresent()) {
            keys = identity(pem(new File(tls.certificate().get()), new File(tls.key().get())), every,
                    "strata.tls.certificate, strata.tls.key");
        } else if (tls.keyStore().isPresent()) {
            keys = identity(KeyStoreIdentity.of(new File(tls.keyStore().get()), tls.keyStorePassword().get(),
                    tls.keyStoreType(), tls.keyStoreAlias()), every, "strata.tls.key-store");
        }
        if (internalParts == 3) {
            internalKeys = identity(pem(new File(internal.certificate().get()), new File(internal.key().get())), every,
                    "strata.tls.internal.certificate, strata.tls.internal.key");
            internalCa = new File(internal.ca().get());
            if (!internalCa.isFile() || !internalCa.canRead()) {
                throw new IllegalStateException("cannot read the node CA " + internalCa + " (strata.tls.internal.ca)");
            }
        }
    }

    /** Where a node's key and certificate chain are read from: the files and how to read them. */
    interface IdentitySource {
        List<File> files();

        /** The chain (the node's certificate first) and its key, as the files hold them now. */
        Credentials read() throws Exception;
    }

    record Credentials(java.security.cert.X509Certificate[] chain, java.security.PrivateKey key) {
    }

    private static IdentitySource pem(File certificate, File key) {
        return new IdentitySource() {
            @Override
            public List<File> files() {
                return List.of(certificate, key);
            }

            @Override
            public Credentials read() throws Exception {
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
                return new Credentials(chain, privateKey);
            }

            @Override
            public String toString() {
                return "certificate " + certificate + " and key " + key;
            }
        };
    }

    /** A key manager of this identity, which takes it again when its files changed. */
    private AdvancedTlsX509KeyManager identity(IdentitySource source, long everyMs, String settings) {
        for (File f : source.files()) {
            if (!f.isFile() || !f.canRead()) {
                throw new IllegalStateException("cannot read " + f + " (" + settings + ")");
            }
        }
        long[] seen = modified(source); // before reading: a change meanwhile is seen
        AdvancedTlsX509KeyManager k = new AdvancedTlsX509KeyManager();
        try {
            update(k, source);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the TLS " + source + " (" + settings + "): " + e.getMessage(), e);
        }
        // grpc-java's own file watch checks no more often than once a minute; renewals are looked for here.
        reloader.scheduleWithFixedDelay(() -> reload(k, source, seen), everyMs, everyMs, TimeUnit.MILLISECONDS);
        return k;
    }

    private static long[] modified(IdentitySource source) {
        return source.files().stream().mapToLong(File::lastModified).toArray();
    }

    /**
     * Takes the files again once any changed since they were last read (a renewal may keep its key). A set that
     * does not load, or whose key is not the certificate's (a renewal half written), keeps the previous one, and
     * is tried again at the next check.
     */
    private static void reload(AdvancedTlsX509KeyManager k, IdentitySource source, long[] seen) {
        long[] now = modified(source);
        if (java.util.Arrays.equals(now, seen) || java.util.Arrays.stream(now).anyMatch(m -> m == 0)) {
            return;
        }
        try {
            update(k, source);
            System.arraycopy(now, 0, seen, 0, now.length);
            LOG.infof("TLS %s read again: new connections are served the renewed certificate", source);
        } catch (Exception e) {
            LOG.warnf("cannot read the renewed TLS %s (%s): the previous one is served", source, e.getMessage());
        }
    }

    /** Loads the identity into {@code k} once its key is shown to be its certificate's (it signs what the certificate verifies). */
    private static void update(AdvancedTlsX509KeyManager k, IdentitySource source) throws Exception {
        Credentials read = source.read();
        java.security.PrivateKey privateKey = read.key();
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
        verify.initVerify(read.chain()[0].getPublicKey());
        verify.update(probe);
        if (!verify.verify(signature)) {
            throw new java.security.GeneralSecurityException("the key is not the key of the certificate (" + source + ")");
        }
        k.updateIdentityCredentials(read.chain(), privateKey);
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
