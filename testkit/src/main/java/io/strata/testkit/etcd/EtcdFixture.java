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

    private EtcdFixture(ManagedProcess process, Path dataDir, int clientPort, List<String> command) {
        this.process = process;
        this.dataDir = dataDir;
        this.clientPort = clientPort;
        this.command = command;
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
        process = launch(command, dataDir, clientPort);
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
