package io.strata.launcher;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where the programs of a local cluster are: the JVM, the packaged Strata server, S3Proxy's jar and etcd.
 * Each is looked up when first needed, so that a missing one fails with a message saying how to get it.
 *
 * @param home the Strata source tree (the {@code strata} script passes it as {@code strata.home})
 */
public record Installation(Path home) {
    /** The tree named by the {@code strata.home} property, else the working directory. */
    public static Installation fromSystem() {
        return new Installation(Path.of(System.getProperty("strata.home", ".")).toAbsolutePath().normalize());
    }

    /** The JVM running this code: the cluster's Java processes use the same one. */
    public Path java() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    public Path serverJar() {
        Path configured = Path.of(System.getProperty("strata.server.dir",
                home.resolve("server/target/quarkus-app").toString()), "quarkus-run.jar");
        return require(configured, "the packaged Strata server",
                "build it: ./mvnw -B install -DskipTests -pl server -am (./strata does it when it is missing)");
    }

    /** S3Proxy with its dependencies: {@code s3proxy.jar} when set, else what the launcher module's build copied. */
    public Path s3ProxyJar() {
        String configured = System.getProperty("s3proxy.jar");
        Path jar = configured != null ? Path.of(configured) : home.resolve("launcher/target/s3proxy/s3proxy.jar");
        return require(jar, "S3Proxy's jar", "build the launcher module: ./mvnw -B install -DskipTests -pl launcher");
    }

    /** Where this module's classes are (its jar, or its classes folder in a build): the latency proxy runs from them. */
    public String launcherClasspath() {
        try {
            return Path.of(Installation.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new LauncherException("cannot tell where the launcher's classes are: " + e.getMessage());
        }
    }

    /** etcd: {@code STRATA_ETCD_BIN} when set, else the first on the PATH or in the usual places. */
    public Path etcd() {
        String configured = System.getenv("STRATA_ETCD_BIN");
        if (configured != null && !configured.isBlank()) {
            return require(Path.of(configured), "the etcd binary named by STRATA_ETCD_BIN", "point it at an etcd binary");
        }
        return findOnPath("etcd").orElseThrow(() -> new LauncherException("etcd is not installed: run 'apt-get "
                + "install etcd-server' (./strata cluster up and ./scripts/test install it), or point STRATA_ETCD_BIN "
                + "at an etcd binary"));
    }

    private static Optional<Path> findOnPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return List.of("/usr/bin/", "/usr/local/bin/", "/usr/sbin/").stream().map(d -> Path.of(d + program))
                .filter(Files::isExecutable).findFirst();
    }

    private static Path require(Path path, String what, String howToGetIt) {
        if (!Files.isRegularFile(path)) {
            throw new LauncherException(what + " is missing at " + path.toAbsolutePath() + ": " + howToGetIt);
        }
        return path;
    }
}
