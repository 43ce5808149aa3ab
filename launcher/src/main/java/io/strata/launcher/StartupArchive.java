package io.strata.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A class-data-sharing archive of the packaged server's start (the JDK's dynamic AppCDS, Java 13 and later): the
 * classes a node loads until it is ready, parsed, verified and laid out once, at build time, and mapped by every
 * later start. A node with it is ready in about 1.8 s instead of 2.6 s on a 2-core machine (issue 27: a cold
 * cluster's first seconds), and a test run that starts a hundred nodes saves minutes.
 *
 * <p>The archive sits beside the application folder ({@code server/target/strata-node.jsa}), not in it: the
 * container images copy that folder, and run another JVM, for which the archive would be dead weight. It is only
 * valid for the JVM build that wrote it and for the very jars it read. A JVM of another version does not merely
 * ignore it: from Java 19 on it turns class sharing off altogether, the JDK's own archive included. So the
 * archive is given to a node only when the node's JVM is the one that wrote it: the same installation (its real
 * path) at the same build (its {@code release} file's {@code JAVA_RUNTIME_VERSION}), as the stamp beside the
 * archive ({@code strata-node.jsa.jvm}) records. A rebuilt jar the JVM finds itself, and then drops only this
 * archive; its warning is turned off because that is the intended fallback, not a fault.
 *
 * <p>The command line has one of its own ({@code cli/target/strata-cli.jsa}, {@link #ofCommandLine}), trained by
 * a command that dials a port nobody listens on: every command a user types loads the same client, gRPC and
 * Netty classes before it talks to a node, and starts about 0.3 s sooner with them mapped (1.4 s to 1.1 s for
 * {@code strata topics list} on a 2-core machine). The {@code strata} script gives it under the same stamp check.
 */
public final class StartupArchive {
    static final String FILE = "strata-node.jsa";
    static final String STAMP = FILE + ".jvm";
    static final String CLI_FILE = "strata-cli.jsa";
    /**
     * Variables every JVM reads options from: the build's would reach the training run (-Xshare:off would archive
     * nothing; an agent's classes would be archived), so the training runs without them.
     */
    private static final java.util.Set<String> JVM_OPTION_VARIABLES = java.util.Set.of("JAVA_TOOL_OPTIONS",
            "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS");
    private static final Duration TRAINING_TIMEOUT = Duration.ofSeconds(120);

    private StartupArchive() {
    }

    /** Where the archive of this packaged server is (whether or not it exists). */
    public static Path of(Path serverJar) {
        return serverJar.toAbsolutePath().normalize().getParent().resolveSibling(FILE);
    }

    /** Where the command line's archive is (whether or not it exists): beside its jar. */
    public static Path ofCommandLine(Path cliJar) {
        return cliJar.toAbsolutePath().normalize().resolveSibling(CLI_FILE);
    }

    /** The stamp beside {@code archive}: which JVM wrote it. */
    static Path stampOf(Path archive) {
        return archive.resolveSibling(archive.getFileName() + ".jvm");
    }

    /** The JVM options that map the archive when there is one, written by the JVM {@code java} is; none otherwise. */
    public static List<String> options(Path java, Path serverJar) {
        return mapping(java, of(serverJar));
    }

    /** The options that map {@code archive} when it and its stamp exist and the stamp names {@code java}'s JVM. */
    static List<String> mapping(Path java, Path archive) {
        Optional<String> jvm = stamp(java);
        try {
            if (jvm.isEmpty() || !Files.isRegularFile(archive) || !Files.isRegularFile(stampOf(archive))
                    || !Files.readString(stampOf(archive)).equals(jvm.get())) {
                return List.of();
            }
        } catch (IOException e) {
            return List.of();
        }
        return List.of("-XX:SharedArchiveFile=" + archive, "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
    }

    /**
     * What identifies the JVM that {@code java} runs: its installation's real path and its build, one per line (the
     * {@code strata} script compares the same two); empty when the installation has no {@code release} file.
     */
    static Optional<String> stamp(Path java) {
        try {
            Path home = java.toRealPath().getParent().getParent();
            Path release = home.resolve("release");
            if (!Files.isRegularFile(release)) {
                return Optional.empty();
            }
            return Files.readAllLines(release).stream().filter(l -> l.startsWith("JAVA_RUNTIME_VERSION="))
                    .findFirst().map(version -> home + "\n" + version + "\n");
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Writes the archive: starts the server on the embedded default in a scratch folder, with the JVM told to archive
     * what it loaded when it exits, waits until it is ready, and stops it (SIGTERM). The archive replaces the old one
     * only once it is whole.
     */
    public static Path create(Path java, Path serverJar, Duration timeout) {
        return train(java, of(serverJar), (partial, scratch) -> {
            int httpPort = Ports.freePort();
            List<String> options = new ArrayList<>(List.of("-Xmx512m", "-XX:ArchiveClassesAtExit=" + partial));
            // The embedded default, whatever STRATA_* or QUARKUS_* variables the build runs with.
            List<String> command = Commands.node(java, serverJar, options,
                    Map.of("strata.data-dir", scratch.resolve("data").toString()), Ports.freePort(), httpPort,
                    Ports.freePort(), Ports.freePort());
            ManagedProcess node = ManagedProcess.startForJob("startup-archive", command,
                    v -> v.startsWith("STRATA_") || v.startsWith("QUARKUS_") || JVM_OPTION_VARIABLES.contains(v), scratch);
            try {
                if (!HttpProbe.await(Role.INGEST.readinessUrl(httpPort), Role.INGEST::isReady, timeout, node)) {
                    throw interruptedOr(!node.isAlive() ? "the server exited while starting:\n" + node.tail(30)
                            : "the server was not ready within " + timeout.toSeconds() + " s:\n" + node.tail(30));
                }
                if (!node.stop(timeout.toSeconds())) {
                    throw new LauncherException("the server did not exit on SIGTERM within " + timeout.toSeconds()
                            + " s, so it archived nothing:\n" + node.tail(30));
                }
            } finally {
                node.kill();
            }
            // A JVM that died while it wrote the archive leaves a file whose header (written last) is empty.
            int exit = node.exitCode().orElse(-1);
            if (exit != 0 && exit != 128 + 15) {
                throw new LauncherException("the server exited with " + exit + ":\n" + node.tail(30));
            }
            return node;
        });
    }

    /**
     * Writes the command line's archive: runs {@code strata --server 127.0.0.1:PORT topics list} once against a port
     * nobody listens on (no node is needed at build time, and the failed call loads what a call does), in a scratch
     * home, without the build's {@code STRATA_*} variables, and keeps what it loaded.
     */
    public static Path createForCommandLine(Path java, Path cliJar, Duration timeout) {
        return train(java, ofCommandLine(cliJar), (partial, scratch) -> {
            List<String> command = List.of(java.toString(), "-Xmx256m", "-XX:ArchiveClassesAtExit=" + partial,
                    "-Dstrata.home=" + scratch, "-jar", cliJar.toAbsolutePath().normalize().toString(),
                    "--server", "127.0.0.1:" + Ports.freePort(), "topics", "list");
            ManagedProcess cli = ManagedProcess.startForJob("cli-startup-archive", command,
                    v -> v.startsWith("STRATA_") || JVM_OPTION_VARIABLES.contains(v), scratch);
            try {
                if (!cli.awaitExit(timeout)) {
                    throw interruptedOr("the command line did not exit within " + timeout.toSeconds() + " s:\n"
                            + cli.tail(30));
                }
            } finally {
                cli.kill();
            }
            // 1: the call failed, as it must against a port nobody listens on.
            int exit = cli.exitCode().orElse(-1);
            if (exit != 0 && exit != 1) {
                throw new LauncherException("the command line exited with " + exit + ":\n" + cli.tail(30));
            }
            return cli;
        });
    }

    /** A training run: writes the archive at {@code partial} as it exits, working in {@code scratch}; returns it ended. */
    @FunctionalInterface
    private interface Training {
        ManagedProcess run(Path partial, Path scratch);
    }

    /** Trains {@code archive} by {@code training}, then keeps it whole with its stamp; the scratch folder goes. */
    private static Path train(Path java, Path archive, Training training) {
        Path partial = partialOf(archive);
        String jvm = jvmOf(java);
        Path scratch = prepare(archive);
        try {
            return finish(partial, archive, jvm, training.run(partial, scratch));
        } finally {
            try {
                Files.deleteIfExists(partial); // what a failed training left
            } catch (IOException e) {
                // left beside the archive, under this run's name: no start reads it
            }
            deleteTree(scratch);
        }
    }

    /** This training's own partial file: two builds training at once never write into one. */
    private static Path partialOf(Path archive) {
        return archive.resolveSibling(archive.getFileName() + "." + ProcessHandle.current().pid() + ".partial");
    }

    private static String jvmOf(Path java) {
        return stamp(java).orElseThrow(() -> new LauncherException(java + " has no release file saying which build "
                + "it is, so no start could tell whether an archive is its own"));
    }

    /** Removes the archive and its stamp, and makes the training's scratch folder. */
    private static Path prepare(Path archive) {
        try {
            // A training that fails leaves no archive, never an older one: it was written for other jars. (A node's
            // training run would also map a stale archive itself, as Commands.node gives it, and could not archive
            // on top of it.)
            Files.deleteIfExists(stampOf(archive));
            Files.deleteIfExists(archive);
            return Files.createTempDirectory("strata-startup-archive");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Keeps the archive a training run wrote whole, then its stamp. */
    private static Path finish(Path partial, Path archive, String jvm, ManagedProcess run) {
        if (!Files.isRegularFile(partial)) {
            throw new LauncherException("the training run exited without writing " + partial + ":\n" + run.tail(30));
        }
        try {
            Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            // The stamp last: a start is given the archive only once both are whole.
            Files.writeString(stampOf(archive), jvm);
            return archive;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code java io.strata.launcher.StartupArchive SERVER_JAR}: what the server module's build runs once it has
     * packaged the server; {@code --command-line CLI_JAR}: the command line's build, likewise. A failure is reported
     * and leaves no archive, never a failed build: nodes and commands start without.
     */
    public static void main(String[] args) {
        boolean commandLine = args.length > 0 && args[0].equals("--command-line");
        long start = System.nanoTime();
        try {
            Path jar = Path.of(args[commandLine ? 1 : 0]);
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            Path archive = commandLine ? createForCommandLine(java, jar, TRAINING_TIMEOUT)
                    : create(java, jar, TRAINING_TIMEOUT);
            System.out.printf("startup archive %s (%d MiB) written in %.1f s%n", archive,
                    Files.size(archive) >> 20, (System.nanoTime() - start) / 1e9);
        } catch (Exception | LinkageError e) {
            System.err.println("strata: no startup archive (" + (commandLine ? "commands" : "nodes")
                    + " start without one): " + e);
        }
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a scratch folder in the temporary directory: left for the system to clean
        }
    }

    /** A wait that ended early: interrupted, or {@code why}. */
    private static LauncherException interruptedOr(String why) {
        return new LauncherException(Thread.currentThread().isInterrupted()
                ? "interrupted while the startup archive was made" : why);
    }
}
