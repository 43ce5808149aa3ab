package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
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
 * The ports clients use, over TLS (the node's certificate and key in PEM files, or in a PKCS#12 key store, signed
 * by a CA of the cluster's own): a client that trusts that CA produces and consumes as over plaintext, Kafka's clients included
 * ({@code security.protocol=SSL}); a plaintext client and a client that trusts another CA are refused at once
 * with UNAVAILABLE, never left to their deadlines; a certificate renewed on disk is what new connections get,
 * while a stream opened before goes on.
 */
class TlsTest {
    @TempDir
    Path work;

    @Test
    void aNodeWithACertificateServesOnlyClientsThatTrustItsCa() throws Exception {
        Path tls = Files.createDirectories(work.resolve("tls"));
        Certificates.Issued node = Certificates.issue(tls, "ca", "node");
        Path otherCa = Certificates.issue(tls, "other-ca", "other-node").caPem();
        Path certificate = Files.copy(node.certificatePem(), tls.resolve("tls.crt"));
        Path key = Files.copy(node.keyPem(), tls.resolve("tls.key"));
        // The node-to-node port: a CA of its own, whose certificates name strata-internal.
        Certificates.Issued peer = Certificates.issue(tls, "node-ca", "peer", "dns:" + "strata-internal");
        int internalPort = freePort();
        Map<String, String> settings = Map.of(
                "strata.tls.certificate", certificate.toString(), "strata.tls.key", key.toString(),
                "strata.tls.reload-interval", "1s", "strata.tls.internal.certificate", peer.certificatePem().toString(),
                "strata.tls.internal.key", peer.keyPem().toString(), "strata.tls.internal.ca", peer.caPem().toString());
        try (StrataCluster cluster = new StrataCluster(work)) {
            StrataProcess server = cluster.start("ingest", "ingest", settings);
            Map<String, String> fetchSettings = new java.util.HashMap<>(settings);
            fetchSettings.put("strata.internal.port", String.valueOf(internalPort));
            // The fetch node has the same certificate in a PKCS#12 key store, as Java shops hand them out.
            fetchSettings.remove("strata.tls.certificate");
            fetchSettings.remove("strata.tls.key");
            fetchSettings.put("strata.tls.key-store", node.store().toString());
            fetchSettings.put("strata.tls.key-store-password", "secret");
            StrataProcess fetch = cluster.start("fetch", "fetch", fetchSettings);
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
                    assertThat(read).hasSize(10);
                    // The ingest node hands new blocks' chunks to the fetch node over mutual TLS, once it has seen
                    // that node registered (the first blocks may precede that) and while this consumer reads at the
                    // tail there: a block at a time until one is handed over.
                    long handOffDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (metric(server, "strata_ingest_handoff_sent_total") == 0
                            && System.nanoTime() < handOffDeadline) {
                        client.producer().send("secret", 1, null, "hand-off".getBytes(StandardCharsets.UTF_8))
                                .get(20, TimeUnit.SECONDS);
                        consumer.poll(Duration.ofMillis(500));
                    }
                }
                assertThat(metric(server, "strata_ingest_handoff_sent_total")).as("chunks handed over").isPositive();
                long watchDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (metric(server, "strata_ingest_handoff_tail_nodes") == 0 && System.nanoTime() < watchDeadline) {
                    Thread.sleep(100);
                }
                assertThat(metric(server, "strata_ingest_handoff_tail_nodes"))
                        .as("the fetch node tells what it reads at the tail over mutual TLS").isEqualTo(1);
                // The node-to-node port takes node certificates only: not a client's (another CA), not none.
                String internal = "127.0.0.1:" + internalPort;
                assertThat(handshake(internal, peer, peer.caPem())).isTrue();
                assertThat(handshake(internal, node, peer.caPem())).as("a client certificate").isFalse();
                assertThat(handshake(internal, null, peer.caPem())).as("no certificate").isFalse();
                // Nor one the node CA signed for something else (an operator who signed clients with it too): the
                // handshake passes, its calls do not, so it can hand no forged chunk to the fetch node's cache.
                Certificates.Issued intruder = Certificates.issueWith(tls, "node-ca", "intruder", "ip:127.0.0.1");
                assertThat(handOver(internal, intruder).getCode()).isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
                assertThat(handOver(internal, peer).getCode()).as("a node").isEqualTo(io.grpc.Status.Code.OK);
                assertThat(watchTail(internal, intruder).getCode()).as("what is read where: nodes' business only")
                        .isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
                assertThat(watchTail(internal, peer).getCode()).as("a node").isEqualTo(io.grpc.Status.Code.OK);

                // Kafka's clients, over TLS with the same certificate.
                Map<String, Object> ssl = Map.of("bootstrap.servers", server.kafkaAddress(), "security.protocol", "SSL",
                        "ssl.truststore.type", "PEM", "ssl.truststore.location", node.caPem().toString());
                try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<>(ssl,
                        new org.apache.kafka.common.serialization.StringSerializer(),
                        new org.apache.kafka.common.serialization.StringSerializer())) {
                    producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("secret", 0, "k", "over-kafka"))
                            .get(30, TimeUnit.SECONDS);
                }
                Map<String, Object> consumerSettings = new java.util.HashMap<>(ssl);
                consumerSettings.put("auto.offset.reset", "earliest");
                try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(consumerSettings,
                        new org.apache.kafka.common.serialization.StringDeserializer(),
                        new org.apache.kafka.common.serialization.StringDeserializer())) {
                    consumer.assign(List.of(new org.apache.kafka.common.TopicPartition("secret", 0)));
                    List<String> values = new ArrayList<>();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (values.size() < 6 && System.nanoTime() < deadline) {
                        consumer.poll(Duration.ofMillis(500)).forEach(r -> values.add(r.value()));
                    }
                    assertThat(values).hasSize(6).contains("over-kafka");
                }

                // The HTTP port (health, metrics) speaks TLS with the same certificate, and nothing in clear.
                assertThat(servedCertificate(server.httpAddress(), node.caPem())).isEqualTo("CN=node");
                assertThat(servedCertificate(fetch.address(), node.caPem())).as("from the key store").isEqualTo("CN=node");
                assertThat(servedCertificate(fetch.httpAddress(), node.caPem())).as("from the key store, HTTP")
                        .isEqualTo("CN=node");
                assertThat(catchThrowable(() -> java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                        .newBuilder(java.net.URI.create("http://" + server.httpAddress() + "/q/health/ready")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()))).as("plain HTTP").isInstanceOf(
                        java.io.IOException.class);

                // A renewal: new files in place; new connections get the new certificate, an open stream goes on.
                assertThat(servedCertificate(server.address(), node.caPem())).isEqualTo("CN=node");
                try (io.strata.client.Consumer tail = client.consumer("secret", ConsumerConfig.DEFAULT)) {
                    tail.assign(List.of(1));
                    tail.seekToEnd();
                    tail.poll(Duration.ofMillis(200));
                    Certificates.Issued renewed = Certificates.issueWith(tls, "ca", "node-renewed");
                    Files.copy(renewed.certificatePem(), certificate, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    Files.copy(renewed.keyPem(), key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (!servedCertificate(server.address(), node.caPem()).equals("CN=node-renewed")
                            && System.nanoTime() < deadline) {
                        Thread.sleep(250);
                    }
                    assertThat(servedCertificate(server.address(), node.caPem())).isEqualTo("CN=node-renewed");
                    client.producer().send("secret", 1, null, "after-renewal".getBytes(StandardCharsets.UTF_8))
                            .get(20, TimeUnit.SECONDS);
                    List<String> tailed = new ArrayList<>();
                    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (tailed.isEmpty() && System.nanoTime() < deadline) {
                        tail.poll(Duration.ofMillis(500)).forEach(r -> tailed.add(new String(r.value(),
                                StandardCharsets.UTF_8)));
                    }
                    assertThat(tailed).containsExactly("after-renewal");
                }
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

    private static int freePort() throws IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** A counter of the node's /q/metrics. */
    private static double metric(StrataProcess node, String name) {
        return StrataCluster.metric(node, name);
    }

    /** An empty hand-off to the node-to-node port, made with the certificate: its status. */
    private static io.grpc.Status handOver(String address, Certificates.Issued identity) throws Exception {
        return nodeCall(address, identity, stub -> stub.handOverChunks(
                io.strata.api.v1.HandOverChunksRequest.getDefaultInstance()));
    }

    /** A watch of the node's tail readers, made with the certificate: the status of its first message. */
    private static io.grpc.Status watchTail(String address, Certificates.Issued identity) throws Exception {
        return nodeCall(address, identity, stub -> stub.watchTailReaders(
                io.strata.api.v1.WatchTailReadersRequest.getDefaultInstance()).hasNext());
    }

    private static io.grpc.Status nodeCall(String address, Certificates.Issued identity,
            java.util.function.Consumer<io.strata.api.v1.NodeServiceGrpc.NodeServiceBlockingStub> call) throws Exception {
        io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forTarget(address)
                .sslContext(io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.forClient()
                        .keyManager(identity.certificatePem().toFile(), identity.keyPem().toFile())
                        .trustManager(identity.caPem().toFile()).build())
                .overrideAuthority("strata-internal").build();
        try {
            call.accept(io.strata.api.v1.NodeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20,
                    TimeUnit.SECONDS));
            return io.grpc.Status.OK;
        } catch (io.grpc.StatusRuntimeException e) {
            return e.getStatus();
        } finally {
            channel.shutdownNow();
        }
    }

    /**
     * Whether a TLS session with {@code address} can be used when presenting {@code identity}'s certificate (or
     * none): a server that requires another CA's certificate refuses it during or right after the handshake.
     */
    private static boolean handshake(String address, Certificates.Issued identity, Path caPem) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(Files.newInputStream(caPem)));
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        javax.net.ssl.KeyManager[] keyManagers = null;
        if (identity != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(identity.store())) {
                keys.load(in, "secret".toCharArray());
            }
            // SunX509 names a key by its alias in the store (PKIX prefixes it).
            javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("SunX509");
            kmf.init(keys, "secret".toCharArray());
            javax.net.ssl.X509ExtendedKeyManager chosen = (javax.net.ssl.X509ExtendedKeyManager) kmf.getKeyManagers()[0];
            String alias = identity.keyPem().getFileName().toString().replace(".key", "");
            // Offered whatever issuers the server asks for: the JDK would offer nothing for another CA's.
            keyManagers = new javax.net.ssl.KeyManager[] {new javax.net.ssl.X509ExtendedKeyManager() {
                public String[] getClientAliases(String type, java.security.Principal[] issuers) {
                    return new String[] {alias};
                }

                public String chooseClientAlias(String[] type, java.security.Principal[] issuers, java.net.Socket s) {
                    return alias;
                }

                public String chooseEngineClientAlias(String[] type, java.security.Principal[] issuers,
                                                      javax.net.ssl.SSLEngine e) {
                    return alias;
                }

                public String[] getServerAliases(String type, java.security.Principal[] issuers) {
                    return null;
                }

                public String chooseServerAlias(String type, java.security.Principal[] issuers, java.net.Socket s) {
                    return null;
                }

                public java.security.cert.X509Certificate[] getCertificateChain(String a) {
                    return chosen.getCertificateChain(a);
                }

                public java.security.PrivateKey getPrivateKey(String a) {
                    return chosen.getPrivateKey(a);
                }
            }};
        }
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLSv1.3");
        context.init(keyManagers, tmf.getTrustManagers(), null);
        int colon = address.lastIndexOf(':');
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket(
                address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)))) {
            socket.setSoTimeout(10_000);
            javax.net.ssl.SSLParameters p = socket.getSSLParameters();
            p.setApplicationProtocols(new String[] {"h2"});
            socket.setSSLParameters(p);
            socket.startHandshake();
            // Under TLS 1.3 the server checks the client's certificate after the client's handshake ends: a
            // refusal is an alert at the first read. An accepted client gets the server's HTTP/2 settings.
            socket.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return socket.getInputStream().read() != -1;
        } catch (IOException e) {
            return false;
        }
    }

    /** The subject of the certificate a TLS handshake with {@code address} is answered with. */
    private static String servedCertificate(String address, Path caPem) throws Exception {
        javax.net.ssl.SSLContext context = Certificates.trusting(caPem);
        int colon = address.lastIndexOf(':');
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket(
                address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)))) {
            javax.net.ssl.SSLParameters p = socket.getSSLParameters();
            p.setApplicationProtocols(new String[] {"h2"});
            p.setEndpointIdentificationAlgorithm("HTTPS"); // the renewed certificate names the node's address too
            socket.setSSLParameters(p);
            socket.startHandshake();
            return ((java.security.cert.X509Certificate) socket.getSession().getPeerCertificates()[0])
                    .getSubjectX500Principal().getName();
        }
    }
}
