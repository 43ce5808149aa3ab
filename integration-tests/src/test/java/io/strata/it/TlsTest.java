package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.client.ConsumerConfig;
import io.strata.client.ConsumerRecord;
import io.strata.client.StrataClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client gRPC port over TLS (a certificate and key in PEM files, signed by a CA of the cluster's own): a
 * client that trusts that CA produces and consumes as over plaintext; a plaintext client and a client that
 * trusts another CA are refused at once with UNAVAILABLE, never left to their deadlines.
 */
class TlsTest {
    @TempDir
    Path work;

    @Test
    void aNodeWithACertificateServesOnlyClientsThatTrustItsCa() throws Exception {
        Path tls = Files.createDirectories(work.resolve("tls"));
        Certificates.Issued node = Certificates.issue(tls, "ca", "node");
        Path otherCa = Certificates.issue(tls, "other-ca", "other-node").caPem();
        try (StrataCluster cluster = new StrataCluster(work)) {
            StrataProcess server = cluster.start("node", "ingest,fetch", Map.of(
                    "quarkus.grpc.server.ssl.certificate", node.certificatePem().toString(),
                    "quarkus.grpc.server.ssl.key", node.keyPem().toString()));
            try (StrataClient client = StrataClient.builder().server(server.address()).tlsCa(node.caPem())
                    .deadline(Duration.ofSeconds(20)).build()) {
                client.admin().createTopic("secret", 2);
                for (int i = 0; i < 10; i++) {
                    client.producer().send("secret", i % 2, null, ("r" + i).getBytes(StandardCharsets.UTF_8))
                            .get(20, TimeUnit.SECONDS);
                }
                List<String> read = new ArrayList<>();
                try (io.strata.client.Consumer consumer = client.consumer("secret", ConsumerConfig.DEFAULT)) {
                    consumer.assignAll();
                    consumer.seekToBeginning();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (read.size() < 10 && System.nanoTime() < deadline) {
                        for (ConsumerRecord r : consumer.poll(Duration.ofMillis(500))) {
                            read.add(new String(r.value(), StandardCharsets.UTF_8));
                        }
                    }
                }
                assertThat(read).hasSize(10);
            }
            for (StrataClient.Builder refused : List.of(StrataClient.builder().server(server.address()),
                    StrataClient.builder().server(server.address()).tlsCa(otherCa))) {
                long started = System.nanoTime();
                try (StrataClient client = refused.deadline(Duration.ofSeconds(20)).build()) {
                    assertThatThrownBy(() -> client.admin().listTopics())
                            .satisfies(e -> assertThat(e.toString()).contains("UNAVAILABLE"));
                }
                assertThat(Duration.ofNanos(System.nanoTime() - started)).as("refused at once, not at the deadline")
                        .isLessThan(Duration.ofSeconds(15));
            }
        }
    }

    /** A CA and a certificate it signs for 127.0.0.1, made with the JDK's keytool; PEM files for the node. */
    static final class Certificates {
        record Issued(Path caPem, Path certificatePem, Path keyPem) {
        }

        static Issued issue(Path dir, String ca, String name) throws Exception {
            Path caStore = dir.resolve(ca + ".p12");
            Path store = dir.resolve(name + ".p12");
            keytool("-genkeypair", "-alias", ca, "-dname", "CN=" + ca, "-ext", "bc:c", "-keyalg", "RSA",
                    "-keysize", "2048", "-validity", "2", "-keystore", caStore.toString(), "-storepass", "secret");
            Path caPem = dir.resolve(ca + ".pem");
            Files.writeString(caPem, keytool("-exportcert", "-rfc", "-alias", ca, "-keystore", caStore.toString(),
                    "-storepass", "secret"));
            keytool("-genkeypair", "-alias", name, "-dname", "CN=" + name, "-keyalg", "RSA", "-keysize", "2048",
                    "-validity", "2", "-keystore", store.toString(), "-storepass", "secret");
            Path request = dir.resolve(name + ".csr");
            Files.writeString(request, keytool("-certreq", "-alias", name, "-keystore", store.toString(),
                    "-storepass", "secret"));
            Path certificate = dir.resolve(name + ".pem");
            Files.writeString(certificate, keytool("-gencert", "-rfc", "-alias", ca, "-keystore", caStore.toString(),
                    "-storepass", "secret", "-infile", request.toString(), "-validity", "2",
                    "-ext", "san=ip:127.0.0.1,dns:localhost"));
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(store)) {
                keys.load(in, "secret".toCharArray());
            }
            byte[] pkcs8 = keys.getKey(name, "secret".toCharArray()).getEncoded();
            Path key = dir.resolve(name + ".key");
            Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pkcs8)
                    + "\n-----END PRIVATE KEY-----\n");
            return new Issued(caPem, certificate, key);
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
}
