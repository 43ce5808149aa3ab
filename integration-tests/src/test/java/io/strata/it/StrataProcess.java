package io.strata.it;

import io.strata.launcher.Commands;
import io.strata.launcher.HttpProbe;
import io.strata.launcher.Installation;
import io.strata.launcher.LauncherException;
import io.strata.launcher.ManagedProcess;
import io.strata.launcher.Ports;
import io.strata.launcher.Role;
import io.strata.testkit.FixtureUnavailableException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One Strata server process (the packaged Quarkus application), started with the launcher's command line and
 * the given settings on a free loopback port, and considered up once its readiness check answers UP.
 */
public final class StrataProcess implements AutoCloseable {
    private final String name;
    private final Map<String, String> settings;
    private final Map<String, String> extra = new HashMap<>();
    private final Path workDir;
    private final int port;
    private final int httpPort;
    private final int kafkaPort;
    private ManagedProcess process;

    public StrataProcess(String name, Map<String, String> settings, Path workDir) {
        this.name = name;
        this.settings = settings;
        this.workDir = workDir;
        this.port = Ports.freePort();
        this.httpPort = Ports.freePort();
        this.kafkaPort = Ports.freePort();
    }

    public static Path serverJar() {
        try {
            return new Installation(Path.of("..")).serverJar();
        } catch (LauncherException e) {
            throw new FixtureUnavailableException(e.getMessage(), e);
        }
    }

    /** A setting added before {@link #start()} (for one that needs this node's port, say). */
    public StrataProcess with(String key, String value) {
        extra.put(key, value);
        return this;
    }

    public StrataProcess start() {
        launch();
        awaitReady(Duration.ofSeconds(60));
        return this;
    }

    /** Starts the process without waiting for it to be ready. */
    public StrataProcess launch() {
        Map<String, String> all = new HashMap<>(settings);
        all.putAll(extra);
        // The launcher's command line, as `strata cluster up` starts its nodes.
        List<String> command = Commands.node(Path.of(System.getProperty("java.home"), "bin", "java"), serverJar(),
                List.of("-Xmx512m"), all, port, httpPort, Ports.freePort(), kafkaPort);
        process = ManagedProcess.start(name, command, Map.of(), workDir);
        return this;
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** The exit code once the process exited. */
    public java.util.OptionalInt exitCode() {
        return process.exitCode();
    }

    /** Whether /q/health/ready answers UP now. */
    public boolean isReady() {
        return HttpProbe.once(Role.INGEST.readinessUrl(httpPort), Role.INGEST::isReady);
    }

    /** Whether /q/health/live answers UP now. */
    public boolean isLive() {
        return HttpProbe.once(URI.create("http://127.0.0.1:" + httpPort + "/q/health/live"), Role.INGEST::isReady);
    }

    /** Where Kafka clients reach it (its Kafka listener), as host:port. */
    public String kafkaAddress() {
        return "127.0.0.1:" + kafkaPort;
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

    /** SIGTERM without waiting for the exit ({@link #close} waits): nodes stopping together drain at once. */
    public void terminate() {
        if (process != null && process.isAlive()) {
            process.terminate();
        }
    }

    /** The process's resident memory now (VmRSS), in bytes. */
    public long residentBytes() {
        try {
            Path status = Path.of("/proc/" + process.pid() + "/status");
            if (!java.nio.file.Files.exists(status)) {
                return 0; // exited
            }
            for (String line : java.nio.file.Files.readAllLines(status)) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return 0; // exited: a zombie has no resident memory
    }

    /** The files the process has mapped into its memory now (from /proc: the JVM's libraries, its CDS archives). */
    public java.util.Set<String> mappedFiles() {
        try {
            return java.nio.file.Files.readAllLines(Path.of("/proc/" + process.pid() + "/maps")).stream()
                    .map(l -> l.split("\\s+", 6)).filter(f -> f.length == 6 && f[5].startsWith("/"))
                    .map(f -> f[5]).collect(java.util.stream.Collectors.toSet());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** SIGSTOP: the node stops in its tracks (as in a long GC pause or a frozen VM) until {@link #resume()}. */
    public void pause() {
        process.pause();
    }

    /** SIGCONT. */
    public void resume() {
        process.resume();
    }

    /** SIGTERM: the node commits what it buffers and deregisters. */
    public void stop() {
        process.stop(30);
    }

    /** Waits until the node is ready; fails with its log when it is not within {@code timeout}. */
    public void awaitReady(Duration timeout) {
        if (!HttpProbe.await(Role.INGEST.readinessUrl(httpPort), Role.INGEST::isReady, timeout, process)) {
            String why = process.isAlive() ? " not ready within " + timeout : " exited during start";
            process.kill();
            throw new FixtureUnavailableException(name + why + ":\n" + process.tail(40));
        }
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            stop();
        }
    }
}
