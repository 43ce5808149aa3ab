package io.strata.testkit.s3;

import io.strata.launcher.Commands;
import io.strata.launcher.HttpProbe;
import io.strata.launcher.Installation;
import io.strata.launcher.LauncherException;
import io.strata.launcher.ManagedProcess;
import io.strata.launcher.Ports;
import io.strata.launcher.Role;
import io.strata.testkit.FixtureUnavailableException;
import io.strata.testkit.TempDirs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real S3-compatible server over HTTP: S3Proxy (Maven Central's {@code org.gaul:s3proxy}, resolved by the
 * launcher build), started with the launcher's command line as {@code strata cluster up} starts it, on a free loopback port, storing into a fresh directory, with AWS signature v2/v4
 * authentication. Never skipped: if it cannot start, the test fails saying why.
 *
 * <p>{@link #shared()} is one server per test JVM, stopped when the JVM exits; tests isolate themselves by
 * bucket.
 */
public final class S3ServerFixture implements AutoCloseable {
    private static S3ServerFixture shared;

    private final ManagedProcess process;
    private final Path dir;
    private final Path buckets;
    private final int port;

    private S3ServerFixture(ManagedProcess process, Path dir, Path buckets, int port) {
        this.process = process;
        this.dir = dir;
        this.buckets = buckets;
        this.port = port;
    }

    public static synchronized S3ServerFixture shared() {
        if (shared == null || !shared.process.isAlive()) {
            shared = start();
            S3ServerFixture started = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "stop-shared-s3"));
        }
        return shared;
    }

    public static S3ServerFixture start() {
        Path jar;
        try {
            jar = Installation.fromSystem().s3ProxyJar();
        } catch (LauncherException e) {
            throw new FixtureUnavailableException(e.getMessage(), e);
        }
        Path dir = TempDirs.create("strata-s3-");
        Path buckets = dir.resolve("buckets");
        int port = Ports.freePort();
        List<String> command = Commands.s3Proxy(Path.of(System.getProperty("java.home"), "bin", "java"), jar, dir,
                buckets, port);
        ManagedProcess process = ManagedProcess.start("s3proxy", command, Commands.s3ProxyEnvironment(), dir);
        boolean up = HttpProbe.await(Role.S3.readinessUrl(port), Role.S3::isReady, Duration.ofSeconds(60), process);
        if (!up) {
            String log = process.tail(30);
            process.kill();
            throw new FixtureUnavailableException("S3Proxy did not answer on port " + port + " within 60 s; its log:\n"
                    + log);
        }
        return new S3ServerFixture(process, dir, buckets, port);
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public String region() {
        return "us-east-1";
    }

    public String accessKey() {
        return Commands.S3_ACCESS_KEY;
    }

    public String secretKey() {
        return Commands.S3_SECRET_KEY;
    }

    /** Creates an empty bucket (the filesystem backend's bucket is a directory). */
    public void createBucket(String name) {
        try {
            Files.createDirectories(buckets.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where the server keeps a bucket's objects, for tests that corrupt one on purpose. */
    public Path bucketDirectory(String name) {
        return buckets.resolve(name);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.stop(5);
        TempDirs.deleteQuietly(dir);
    }
}
