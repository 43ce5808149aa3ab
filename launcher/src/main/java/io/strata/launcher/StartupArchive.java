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
 */
public final class StartupArchive {
    static final String FILE = "strata-node.jsa";
    static final String STAMP = FILE + ".jvm";
    private static final Duration TRAINING_TIMEOUT = Duration.ofSeconds(120);

    private StartupArchive() {
    }

    /** Where the archive of this packaged server is (whether or not it exists). */
    public static Path of(Path serverJar) {
        return serverJar.toAbsolutePath().normalize().getParent().resolveSibling(FILE);
    }

    /** The JVM options that map the archive when there is one, written by the JVM {@code java} is; none otherwise. */
    public static List<String> options(Path java, Path serverJar) {
        Path archive = of(serverJar);
        Optional<String> jvm = stamp(java);
        try {
            if (jvm.isEmpty() || !Files.isRegularFile(archive) || !Files.isRegularFile(archive.resolveSibling(STAMP))
                    || !Files.readString(archive.resolveSibling(STAMP)).equals(jvm.get())) {
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
        Path archive = of(serverJar);
        Path partial = archive.resolveSibling(FILE + ".partial");
        String jvm = stamp(java).orElseThrow(() -> new LauncherException(java + " has no release file saying "
                + "which build it is, so no node could tell whether an archive is its own"));
        Path scratch;
        try {
            // A stale archive would be mapped by the training run itself (Commands.node adds it) and cannot be the
            // base of a new one.
            Files.deleteIfExists(archive.resolveSibling(STAMP));
            Files.deleteIfExists(archive);
            Files.deleteIfExists(partial);
            scratch = Files.createTempDirectory("strata-startup-archive");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            int httpPort = Ports.freePort();
            List<String> options = new ArrayList<>(List.of("-Xmx512m", "-XX:ArchiveClassesAtExit=" + partial));
            // The embedded default, whatever STRATA_* or QUARKUS_* variables the build runs with.
            List<String> command = Commands.node(java, serverJar, options,
                    Map.of("strata.data-dir", scratch.resolve("data").toString()), Ports.freePort(), httpPort,
                    Ports.freePort(), Ports.freePort());
            ManagedProcess node = ManagedProcess.startForJob("startup-archive", command,
                    v -> v.startsWith("STRATA_") || v.startsWith("QUARKUS_"), scratch);
            try {
                long deadline = System.nanoTime() + timeout.toNanos();
                while (!HttpProbe.once(Role.INGEST.readinessUrl(httpPort), Role.INGEST::isReady)) {
                    if (!node.isAlive()) {
                        throw new LauncherException("the server exited while starting:\n" + node.tail(30));
                    }
                    if (System.nanoTime() > deadline) {
                        throw new LauncherException("the server was not ready within " + timeout.toSeconds()
                                + " s:\n" + node.tail(30));
                    }
                    sleep(100);
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
            if (!Files.isRegularFile(partial)) {
                throw new LauncherException("the server exited without writing " + partial + ":\n" + node.tail(30));
            }
            Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            // The stamp last: a node is given the archive only once both are whole.
            Files.writeString(archive.resolveSibling(STAMP), jvm);
            return archive;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteTree(scratch);
        }
    }

    /**
     * {@code java io.strata.launcher.StartupArchive SERVER_JAR}: what the server module's build runs once it has
     * packaged the server. A failure is reported and leaves no archive, never a failed build: nodes start without.
     */
    public static void main(String[] args) {
        Path serverJar = Path.of(args[0]);
        long start = System.nanoTime();
        try {
            Path archive = create(Path.of(System.getProperty("java.home"), "bin", "java"), serverJar,
                    TRAINING_TIMEOUT);
            System.out.printf("startup archive %s (%d MiB) written in %.1f s%n", archive,
                    Files.size(archive) >> 20, (System.nanoTime() - start) / 1e9);
        } catch (RuntimeException | IOException e) {
            System.err.println("strata: no startup archive (nodes start without one): " + e.getMessage());
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

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LauncherException("interrupted while the startup archive was made");
        }
    }
}
