package io.strata.launcher.tls;

import io.strata.launcher.LauncherException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * CAs and the certificates they sign, made with the JDK's own keytool (nothing to install), as PEM files a
 * node and its clients read: for a local cluster's TLS ({@code strata cluster up --secure}) and for tests.
 * Keys are RSA 2048; certificates last {@code days}.
 */
public final class LocalCertificates {
    /** A certificate, its key (PKCS#8 PEM), the CA that signed it, and a PKCS#12 store of both (password "secret"). */
    public record Issued(Path caPem, Path certificatePem, Path keyPem, Path store) {
    }

    private final Path dir;
    private final int days;

    public LocalCertificates(Path dir, int days) {
        this.dir = dir;
        this.days = days;
    }

    /** A new CA named {@code ca}; its certificate is {@code ca.pem}. */
    public Path newCa(String ca) {
        Path caStore = dir.resolve(ca + ".p12");
        keytool("-genkeypair", "-alias", ca, "-dname", "CN=" + ca, "-ext", "bc:c", "-keyalg", "RSA",
                "-keysize", "2048", "-validity", Integer.toString(days), "-keystore", caStore.toString(),
                "-storepass", "secret");
        Path caPem = dir.resolve(ca + ".pem");
        write(caPem, keytool("-exportcert", "-rfc", "-alias", ca, "-keystore", caStore.toString(), "-storepass", "secret"));
        return caPem;
    }

    /** A certificate for {@code CN=name} with these subject alternative names (keytool's form: "ip:127.0.0.1,dns:x"). */
    public Issued issue(String ca, String name, String san) {
        Path caStore = dir.resolve(ca + ".p12");
        Path caPem = dir.resolve(ca + ".pem");
        Path store = dir.resolve(name + ".p12");
        keytool("-genkeypair", "-alias", name, "-dname", "CN=" + name, "-keyalg", "RSA", "-keysize", "2048",
                "-validity", Integer.toString(days), "-keystore", store.toString(), "-storepass", "secret");
        Path request = dir.resolve(name + ".csr");
        write(request, keytool("-certreq", "-alias", name, "-keystore", store.toString(), "-storepass", "secret"));
        Path certificate = dir.resolve(name + ".pem");
        write(certificate, keytool("-gencert", "-rfc", "-alias", ca, "-keystore", caStore.toString(),
                "-storepass", "secret", "-infile", request.toString(), "-validity", Integer.toString(days),
                "-ext", "san=" + san));
        Path key = dir.resolve(name + ".key");
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(store)) {
                keys.load(in, "secret".toCharArray());
            }
            byte[] pkcs8 = keys.getKey(name, "secret".toCharArray()).getEncoded();
            write(key, "-----BEGIN PRIVATE KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pkcs8)
                    + "\n-----END PRIVATE KEY-----\n");
            ownerOnly(key);
        } catch (java.security.GeneralSecurityException | IOException e) {
            throw new LauncherException("cannot read the key of " + name + " from " + store + ": " + e.getMessage(), e);
        }
        // The store holds the certificate as the CA signed it, for clients that present it.
        keytool("-importcert", "-noprompt", "-alias", ca, "-file", caPem.toString(), "-keystore", store.toString(),
                "-storepass", "secret");
        keytool("-importcert", "-noprompt", "-alias", name, "-file", certificate.toString(), "-keystore",
                store.toString(), "-storepass", "secret");
        return new Issued(caPem, certificate, key, store);
    }

    /** Readable by this user only, where the file system knows permissions. */
    static void ownerOnly(Path file) throws IOException {
        try {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new LauncherException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static String keytool(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
            p.getErrorStream().transferTo(java.io.OutputStream.nullOutputStream()); // its warnings; the PEM is on stdout
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new LauncherException("keytool " + String.join(" ", args) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new LauncherException("cannot run keytool: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LauncherException("interrupted", e);
        }
    }
}
