package io.strata.testkit.etcd;

import io.strata.testkit.FixtureUnavailableException;
import io.strata.testkit.HttpProbe;
import io.strata.testkit.ManagedProcess;
import io.strata.testkit.Ports;
import io.strata.testkit.TempDirs;
import java.io.File;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A real, single-member etcd, started as a process on free loopback ports with a fresh data directory:
 * Debian's {@code etcd-server} (scripts/test installs it), or the binary named by {@code STRATA_ETCD_BIN}.
 * Never skipped: without etcd it fails with {@link FixtureUnavailableException} saying how to install it.
 *
 * <p>{@link #shared()} is one etcd per test JVM, stopped when the JVM exits; tests isolate themselves by key
 * root. {@link #start()} gives a private one, which its test stops.
 */
public final class EtcdFixture implements AutoCloseable {
    private static EtcdFixture shared;

    private final ManagedProcess process;
    private final Path dataDir;
    private final int clientPort;

    private EtcdFixture(ManagedProcess process, Path dataDir, int clientPort) {
        this.process = process;
        this.dataDir = dataDir;
        this.clientPort = clientPort;
    }

    public static synchronized EtcdFixture shared() {
        if (shared == null || !shared.process.isAlive()) {
            shared = start();
            EtcdFixture started = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "stop-shared-etcd"));
        }
        return shared;
    }

    public static EtcdFixture start() {
        Path binary = findBinary().orElseThrow(() -> new FixtureUnavailableException(
                "etcd is not installed: run 'apt-get install etcd-server' (./scripts/test installs it), or point "
                        + "STRATA_ETCD_BIN at an etcd binary. Tests against real etcd are never skipped."));
        Path dir = TempDirs.create("strata-etcd-");
        int clientPort = Ports.freePort();
        int peerPort = Ports.freePort();
        String client = "http://127.0.0.1:" + clientPort;
        String peer = "http://127.0.0.1:" + peerPort;
        List<String> command = List.of(binary.toString(),
                "--name", "strata-test",
                "--data-dir", dir.resolve("data").toString(),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "strata-test=" + peer, "--initial-cluster-state", "new",
                "--log-level", "warn");
        ManagedProcess process = ManagedProcess.start("etcd", command, Map.of(), dir);
        boolean up = HttpProbe.await(URI.create(client + "/health"),
                r -> r.statusCode() == 200 && r.body().contains("true"), Duration.ofSeconds(30), process);
        if (!up) {
            String log = process.tail(30);
            process.kill();
            throw new FixtureUnavailableException("etcd (" + binary + ") did not become healthy on " + client
                    + " within 30 s; its log:\n" + log);
        }
        return new EtcdFixture(process, dir, clientPort);
    }

    private static Optional<Path> findBinary() {
        String configured = System.getenv("STRATA_ETCD_BIN");
        if (configured != null && !configured.isBlank()) {
            return Optional.of(Path.of(configured)).filter(Files::isExecutable);
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "etcd");
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        for (String fallback : List.of("/usr/bin/etcd", "/usr/local/bin/etcd", "/usr/sbin/etcd")) {
            if (Files.isExecutable(Path.of(fallback))) {
                return Optional.of(Path.of(fallback));
            }
        }
        return Optional.empty();
    }

    /** The client URL, e.g. {@code http://127.0.0.1:23791}. */
    public String endpoint() {
        return "http://127.0.0.1:" + clientPort;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.stop(5);
        TempDirs.deleteQuietly(dataDir);
    }
}
