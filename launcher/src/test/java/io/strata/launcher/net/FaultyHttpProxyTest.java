package io.strata.launcher.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FaultyHttpProxyTest {
    private HttpServer server;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            byte[] answer = (exchange.getRequestMethod() + " " + body.length).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void eachAnswerIsHeldBackByALatencyOfItsKindAndPassesUnchanged() throws Exception {
        try (FaultyHttpProxy proxy = new FaultyHttpProxy(server.getAddress(), 1)) {
            proxy.latency(LatencyModel.parse("put=400/400,get=150/150")); // p50 = p99: always that latency
            URI uri = proxy.endpoint().resolve("/bucket/key");

            long t0 = System.nanoTime();
            HttpResponse<String> get = http.send(HttpRequest.newBuilder(uri).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            long getMs = (System.nanoTime() - t0) / 1_000_000;
            t0 = System.nanoTime();
            HttpResponse<String> put = http.send(HttpRequest.newBuilder(uri)
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[100_000])).build(),
                    HttpResponse.BodyHandlers.ofString());
            long putMs = (System.nanoTime() - t0) / 1_000_000;

            assertThat(get.body()).isEqualTo("GET 0");
            assertThat(put.body()).isEqualTo("PUT 100000");
            assertThat(getMs).as("a GET answers no sooner than its latency").isGreaterThanOrEqualTo(150);
            assertThat(putMs).as("a PUT answers no sooner than its latency").isGreaterThanOrEqualTo(400);
            assertThat(proxy.requests()).isEqualTo(2);
        }
    }

    @Test
    void modelsAreReadAsTheNodesReadThem() {
        assertThat(LatencyModel.parse("s3-standard")).isEqualTo(LatencyModel.S3_STANDARD);
        LatencyModel m = LatencyModel.parse("put=100/350,get=30/80");
        assertThat(m.latencyMillis("PUT", 0)).isEqualTo(100.0);
        assertThat(m.latencyMillis("GET", 2.3263478740408408)).isCloseTo(80.0, org.assertj.core.data.Offset.offset(0.01));
        assertThatThrownBy(() -> LatencyModel.parse("put=100/350")).hasMessageContaining("needs both");
        assertThatThrownBy(() -> LatencyModel.parse("put=300/100,get=1/2")).hasMessageContaining("p50 <= p99");
    }
}
