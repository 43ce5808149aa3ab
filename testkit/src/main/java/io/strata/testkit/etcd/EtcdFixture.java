package io.strata.testkit.etcd;

import io.strata.launcher.Commands;
import io.strata.launcher.HttpProbe;
import io.strata.launcher.Installation;
import io.strata.launcher.LauncherException;
import io.strata.launcher.ManagedProcess;
import io.strata.launcher.Ports;
import io.strata.launcher.Role;
import io.strata.testkit.FixtureUnavailableException;
import io.strata.testkit.TempDirs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

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

    private volatile ManagedProcess process;
    private final Path dataDir;
    private final int clientPort;
    private final List<String> command;

    private final String scheme;
    private final int probePort;

    private EtcdFixture(ManagedProcess process, Path dataDir, int clientPort, List<String> command) {
        this(process, dataDir, clientPort, command, "http", clientPort);
    }

    private EtcdFixture(ManagedProcess process, Path dataDir, int clientPort, List<String> command, String scheme,
                        int probePort) {
        this.process = process;
        this.dataDir = dataDir;
        this.clientPort = clientPort;
        this.command = command;
        this.scheme = scheme;
        this.probePort = probePort;
    }

    /**
     * An etcd of its own that speaks TLS only with this certificate and key, and takes clients whose certificates
     * {@code clientCa} signed (--client-cert-auth). Health is probed on a plain metrics port.
     */
    public static EtcdFixture startSecure(Path certificate, Path key, Path clientCa) {
        Path binary;
        try {
            binary = Installation.fromSystem().etcd();
        } catch (LauncherException e) {
            throw new FixtureUnavailableException(e.getMessage() + ". Tests against real etcd are never skipped.", e);
        }
        Path dir = TempDirs.create("strata-etcd-tls-");
        int clientPort = Ports.freePort();
        int metricsPort = Ports.freePort();
        String client = "https://127.0.0.1:" + clientPort;
        String peer = "http://127.0.0.1:" + Ports.freePort();
        List<String> command = List.of(binary.toString(), "--name", "strata-tls", "--data-dir",
                dir.resolve("data").toString(), "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "strata-tls=" + peer, "--initial-cluster-state", "new",
                "--cert-file", certificate.toString(), "--key-file", key.toString(),
                "--trusted-ca-file", clientCa.toString(), "--client-cert-auth",
                "--listen-metrics-urls", "http://127.0.0.1:" + metricsPort, "--log-level", "warn");
        return new EtcdFixture(launch(command, dir, metricsPort), dir, clientPort, command, "https", metricsPort);
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
        Path binary;
        try {
            binary = Installation.fromSystem().etcd();
        } catch (LauncherException e) {
            throw new FixtureUnavailableException(e.getMessage() + ". Tests against real etcd are never skipped.", e);
        }
        Path dir = TempDirs.create("strata-etcd-");
        int clientPort = Ports.freePort();
        List<String> command = Commands.etcd(binary, "strata-test", dir.resolve("data"), clientPort, Ports.freePort());
        return new EtcdFixture(launch(command, dir, clientPort), dir, clientPort, command);
    }

    private static ManagedProcess launch(List<String> command, Path dir, int clientPort) {
        ManagedProcess process = ManagedProcess.start("etcd", command, Map.of(), dir);
        boolean up = HttpProbe.await(Role.ETCD.readinessUrl(clientPort), Role.ETCD::isReady, Duration.ofSeconds(30),
                process);
        if (!up) {
            String log = process.tail(30);
            process.kill();
            throw new FixtureUnavailableException("etcd (" + command.get(0) + ") did not become healthy on port "
                    + clientPort + " within 30 s; its log:\n" + log);
        }
        return process;
    }

    /** Stops etcd (SIGTERM), keeping its data: until {@link #restart()}, nothing answers at its address. */
    public void stop() {
        process.stop(5);
    }

    /** Starts etcd again on the same ports and data, as after a crash or an upgrade; waits until it is healthy. */
    public void restart() {
        if (process.isAlive()) {
            throw new IllegalStateException("etcd is running");
        }
        process = launch(command, dataDir, probePort);
    }

    /** The client URL, e.g. {@code http://127.0.0.1:23791}. */
    public String endpoint() {
        return scheme + "://127.0.0.1:" + clientPort;
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
