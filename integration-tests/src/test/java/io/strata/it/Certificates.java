package io.strata.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A CA and a certificate it signs for 127.0.0.1, made with the JDK's keytool; PEM files for the node. */
final class Certificates {
    private Certificates() {
    }

    /** {@code store}: the PKCS#12 key store (password "secret") of the certificate and its key. */
    record Issued(Path caPem, Path certificatePem, Path keyPem, Path store) {
    }

    /** A new CA named {@code ca} and a certificate it signs. */
    static Issued issue(Path dir, String ca, String name) throws Exception {
        return issue(dir, ca, name, "ip:127.0.0.1,dns:localhost");
    }

    static Issued issue(Path dir, String ca, String name, String san) throws Exception {
        Path caStore = dir.resolve(ca + ".p12");
        keytool("-genkeypair", "-alias", ca, "-dname", "CN=" + ca, "-ext", "bc:c", "-keyalg", "RSA",
                "-keysize", "2048", "-validity", "2", "-keystore", caStore.toString(), "-storepass", "secret");
        Path caPem = dir.resolve(ca + ".pem");
        Files.writeString(caPem, keytool("-exportcert", "-rfc", "-alias", ca, "-keystore", caStore.toString(),
                "-storepass", "secret"));
        return issueWith(dir, ca, name, san);
    }

    static Issued issueWith(Path dir, String ca, String name) throws Exception {
        return issueWith(dir, ca, name, "ip:127.0.0.1,dns:localhost");
    }

    /** A certificate signed by the CA {@code ca} made before. */
    static Issued issueWith(Path dir, String ca, String name, String san) throws Exception {
        Path caStore = dir.resolve(ca + ".p12");
        Path caPem = dir.resolve(ca + ".pem");
        Path store = dir.resolve(name + ".p12");
        keytool("-genkeypair", "-alias", name, "-dname", "CN=" + name, "-keyalg", "RSA", "-keysize", "2048",
                "-validity", "2", "-keystore", store.toString(), "-storepass", "secret");
        Path request = dir.resolve(name + ".csr");
        Files.writeString(request, keytool("-certreq", "-alias", name, "-keystore", store.toString(),
                "-storepass", "secret"));
        Path certificate = dir.resolve(name + ".pem");
        Files.writeString(certificate, keytool("-gencert", "-rfc", "-alias", ca, "-keystore", caStore.toString(),
                "-storepass", "secret", "-infile", request.toString(), "-validity", "2",
                "-ext", "san=" + san));
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(store)) {
            keys.load(in, "secret".toCharArray());
        }
        byte[] pkcs8 = keys.getKey(name, "secret".toCharArray()).getEncoded();
        Path key = dir.resolve(name + ".key");
        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pkcs8)
                + "\n-----END PRIVATE KEY-----\n");
        // The store holds the certificate as the CA signed it, for clients that present it.
        keytool("-importcert", "-noprompt", "-alias", ca, "-file", caPem.toString(), "-keystore", store.toString(),
                "-storepass", "secret");
        keytool("-importcert", "-noprompt", "-alias", name, "-file", certificate.toString(), "-keystore",
                store.toString(), "-storepass", "secret");
        return new Issued(caPem, certificate, key, store);
    }

    private static String keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        // Its warnings go to stderr (the test's output); stdout carries the PEM asked for.
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool " + String.join(" ", args) + " failed: " + out);
        }
        return out;
    }
}
