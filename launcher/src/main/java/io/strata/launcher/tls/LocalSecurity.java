package io.strata.launcher.tls;

import io.strata.launcher.LauncherException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code strata cluster up --secure} makes in the cluster's folder ({@code tls/}): a CA and a certificate of
 * it for the nodes' client ports (127.0.0.1 and localhost), a CA of the node-to-node port and its node
 * certificate, and the password of the super-user {@value #USER}. The nodes run with TLS, mutual TLS between
 * them and authentication required; the command line trusts the CA and signs in as that user while the
 * cluster is up, unless told otherwise.
 */
public final class LocalSecurity {
    public static final String USER = "admin";
    private static final String DIR = "tls";
    private final Path dir;

    private LocalSecurity(Path dir) {
        this.dir = dir;
    }

    /** The security of the cluster in {@code clusterDir}, if it was made with it. */
    public static Optional<LocalSecurity> of(Path clusterDir) {
        Path dir = clusterDir.resolve(DIR);
        return Files.isRegularFile(dir.resolve("ca.pem")) && Files.isRegularFile(dir.resolve("admin.password"))
                ? Optional.of(new LocalSecurity(dir)) : Optional.empty();
    }

    /** Makes the CAs, certificates (valid for a year) and the super-user's password. */
    public static LocalSecurity create(Path clusterDir) {
        Path dir = clusterDir.resolve(DIR);
        try {
            Files.createDirectories(dir);
            LocalCertificates certificates = new LocalCertificates(dir, 365);
            certificates.newCa("ca");
            certificates.issue("ca", "node", "ip:127.0.0.1,dns:localhost");
            certificates.newCa("node-ca");
            certificates.issue("node-ca", "internal", "dns:strata-internal");
            byte[] random = new byte[18];
            new SecureRandom().nextBytes(random);
            Path password = dir.resolve("admin.password");
            Files.writeString(password, java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random) + "\n");
            LocalCertificates.ownerOnly(password);
        } catch (IOException e) {
            throw new LauncherException("cannot make " + dir + ": " + e.getMessage(), e);
        }
        return new LocalSecurity(dir);
    }

    /** The nodes' settings: TLS on every port, authentication required, the super-user made at first start. */
    public Map<String, String> nodeSettings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("strata.tls.certificate", dir.resolve("node.pem").toString());
        s.put("strata.tls.key", dir.resolve("node.key").toString());
        s.put("strata.tls.internal.certificate", dir.resolve("internal.pem").toString());
        s.put("strata.tls.internal.key", dir.resolve("internal.key").toString());
        s.put("strata.tls.internal.ca", dir.resolve("node-ca.pem").toString());
        s.put("strata.auth.mode", "required");
        s.put("strata.auth.super-users", "User:" + USER);
        s.put("strata.auth.bootstrap-user", USER);
        return s;
    }

    /** The nodes' environment: the super-user's password, kept off their command lines. */
    public Map<String, String> nodeEnvironment() {
        return Map.of("STRATA_AUTH_BOOTSTRAP_PASSWORD", password());
    }

    public Path caPem() {
        return dir.resolve("ca.pem");
    }

    public String user() {
        return USER;
    }

    public Path passwordFile() {
        return dir.resolve("admin.password");
    }

    public String password() {
        try {
            return Files.readString(passwordFile(), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new LauncherException("cannot read " + passwordFile() + ": " + e.getMessage(), e);
        }
    }
}
