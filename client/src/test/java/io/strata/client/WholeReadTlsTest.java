package io.strata.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engines the client's channels get decrypt every whole TLS record a read brought in one call, where those
 * of gRPC's own choosing take one record a call: a server's engine and the client's talk through byte buffers.
 */
class WholeReadTlsTest {
    private static final int RECORDS = 4;
    private static final int RECORD_BYTES = 10_000;

    @TempDir
    static Path dir;
    private static SslContext server;
    private static SslContext client;

    @BeforeAll
    static void certificate() throws Exception {
        assertThat(io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl.isAvailable())
                .as("BoringSSL (netty-tcnative, in grpc-netty-shaded) loads here").isTrue();
        // A self-signed certificate made by the JDK's keytool, as `strata cluster up --secure` makes its own.
        Path store = dir.resolve("node.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-keystore", store.toString(), "-storetype", "PKCS12",
                "-storepass", "secret", "-alias", "node", "-keyalg", "EC", "-dname", "CN=localhost",
                "-ext", "san=dns:localhost", "-validity", "2").redirectErrorStream(true).start();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as("keytool made a certificate").isTrue();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, "secret".toCharArray());
        }
        X509Certificate certificate = (X509Certificate) keys.getCertificate("node");
        server = GrpcSslContexts.configure(SslContextBuilder.forServer(
                (PrivateKey) keys.getKey("node", "secret".toCharArray()), certificate)).build();
        client = GrpcSslContexts.forClient().trustManager(certificate).build();
    }

    @Test
    void theClientsEngineDecryptsEveryWholeRecordOfAReadInOneCall() throws Exception {
        Read read = readRecords(new WholeReadTls(client));
        assertThat(read.plainBytes()).isEqualTo(RECORDS * RECORD_BYTES);
        assertThat(read.calls()).isEqualTo(1);
    }

    @Test
    void gRpcsOwnChoiceTakesOneRecordACall() throws Exception {
        // What WholeReadTls is for: without it, the same read is decrypted a record at a time.
        Read read = readRecords(client);
        assertThat(read.plainBytes()).isEqualTo(RECORDS * RECORD_BYTES);
        assertThat(read.calls()).isGreaterThanOrEqualTo(RECORDS);
    }

    private record Read(int calls, int plainBytes) {
    }

    /** Shakes hands, has the server encrypt {@link #RECORDS} records, and the client unwrap them as one read. */
    private static Read readRecords(SslContext clientContext) throws Exception {
        SSLEngine c = clientContext.newEngine(ByteBufAllocator.DEFAULT, "localhost", 443);
        SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
        c.setUseClientMode(true);
        s.setUseClientMode(false);
        ByteBuffer toServer = ByteBuffer.allocate(1 << 17);
        ByteBuffer toClient = ByteBuffer.allocate(1 << 17);
        ByteBuffer plain = ByteBuffer.allocate(1 << 17);
        c.beginHandshake();
        s.beginHandshake();
        for (int i = 0; i < 50 && !(idle(c) && idle(s) && toServer.position() == 0 && toClient.position() == 0); i++) {
            step(c, toServer, toClient, plain);
            step(s, toClient, toServer, plain);
        }
        assertThat(idle(c) && idle(s)).as("handshake done").isTrue();
        assertThat(plain.position()).as("no data before the records").isZero();

        ByteBuffer wire = ByteBuffer.allocate(1 << 17);
        for (int i = 0; i < RECORDS; i++) {
            s.wrap(ByteBuffer.wrap(new byte[RECORD_BYTES]), wire);
        }
        wire.flip();
        ByteBuffer decrypted = ByteBuffer.allocate(1 << 17);
        int calls = 0;
        while (wire.hasRemaining() && calls < 100) {
            SSLEngineResult result = c.unwrap(wire, decrypted);
            assertThat(result.getStatus()).isEqualTo(SSLEngineResult.Status.OK);
            calls++;
        }
        return new Read(calls, decrypted.position());
    }

    private static boolean idle(SSLEngine e) {
        HandshakeStatus h = e.getHandshakeStatus();
        return h == HandshakeStatus.NOT_HANDSHAKING || h == HandshakeStatus.FINISHED;
    }

    /** One turn of {@code e}: its tasks, what it has to send (into {@code out}), what it was sent (from {@code in}). */
    private static void step(SSLEngine e, ByteBuffer out, ByteBuffer in, ByteBuffer plain) throws Exception {
        tasks(e);
        e.wrap(ByteBuffer.allocate(0), out);
        tasks(e);
        in.flip();
        e.unwrap(in, plain);
        in.compact();
        tasks(e);
    }

    private static void tasks(SSLEngine e) {
        Runnable task;
        while ((task = e.getDelegatedTask()) != null) {
            task.run();
        }
    }
}
