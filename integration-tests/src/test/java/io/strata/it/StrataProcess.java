package io.strata.it;

import io.strata.testkit.FixtureUnavailableException;
import io.strata.testkit.ManagedProcess;
import io.strata.testkit.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One Strata server process (the packaged Quarkus application), started with the given settings on a free
 * loopback port, and considered up once its readiness check answers UP.
 */
public final class StrataProcess implements AutoCloseable {
    private final String name;
    private final Map<String, String> settings;
    private final Map<String, String> extra = new java.util.HashMap<>();
    private final Path workDir;
    private final int port;
    private final int httpPort;
    private ManagedProcess process;

    public StrataProcess(String name, Map<String, String> settings, Path workDir) {
        this.name = name;
        this.settings = settings;
        this.workDir = workDir;
        this.port = Ports.freePort();
        this.httpPort = Ports.freePort();
    }

    public static Path serverJar() {
        Path jar = Path.of(System.getProperty("strata.server.dir", "../server/target/quarkus-app"), "quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new FixtureUnavailableException("the packaged server is missing at " + jar.toAbsolutePath()
                    + ": build it first (./mvnw -B install -DskipTests -pl server -am)");
        }
        return jar;
    }

    /** A setting added before {@link #start()} (for one that needs this node's port, say). */
    public StrataProcess with(String key, String value) {
        extra.put(key, value);
        return this;
    }

    public StrataProcess start() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        command.add("-Dquarkus.grpc.server.port=" + port);
        command.add("-Dquarkus.http.port=" + httpPort);
        command.add("-Dquarkus.http.host=127.0.0.1");
        settings.forEach((k, v) -> command.add("-D" + k + "=" + v));
        extra.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add(serverJar().toAbsolutePath().toString());
        process = ManagedProcess.start(name, command, Map.of(), workDir);
        awaitReady(Duration.ofSeconds(60));
        return this;
    }

    public int port() {
        return port;
    }

    /** Where its gRPC services are. */
    public String address() {
        return "127.0.0.1:" + port;
    }

    /** Where its health checks and metrics are. */
    public String httpAddress() {
        return "127.0.0.1:" + httpPort;
    }

    /** The last lines of the node's log, for failure messages. */
    public String logTail(int lines) {
        return process == null ? "(not started)" : process.tail(lines);
    }

    public void kill() {
        process.kill();
    }

    /** SIGTERM: the node commits what it buffers and deregisters. */
    public void stop() {
        process.stop(30);
    }

    private void awaitReady(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new FixtureUnavailableException(name + " exited during start:\n" + process.tail(40));
            }
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                        URI.create("http://" + httpAddress() + "/q/health/ready")).timeout(Duration.ofSeconds(2))
                        .build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            sleep(200);
        }
        process.kill();
        throw new FixtureUnavailableException(name + " not ready within " + timeout + ":\n" + process.tail(40));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            stop();
        }
    }
}
