package io.strata.testkit.s3;

import io.strata.testkit.FixtureUnavailableException;
import io.strata.testkit.HttpProbe;
import io.strata.testkit.ManagedProcess;
import io.strata.testkit.Ports;
import io.strata.testkit.TempDirs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A real S3-compatible server over HTTP: S3Proxy (Maven Central's {@code org.gaul:s3proxy}, resolved by the
 * testkit build) on a free loopback port, storing into a fresh directory, with AWS signature v2/v4
 * authentication. Never skipped: if it cannot start, the test fails saying why.
 *
 * <p>{@link #shared()} is one server per test JVM, stopped when the JVM exits; tests isolate themselves by
 * bucket.
 */
public final class S3ServerFixture implements AutoCloseable {
    private static final String ACCESS_KEY = "strata-test";
    private static final String SECRET_KEY = "strata-test-secret";
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
        Path jar = s3ProxyJar();
        Path dir = TempDirs.create("strata-s3-");
        Path buckets = dir.resolve("buckets");
        int port = Ports.freePort();
        Path properties = dir.resolve("s3proxy.conf");
        try {
            Files.createDirectories(buckets);
            Files.writeString(properties, String.join("\n",
                    "s3proxy.endpoint=http://127.0.0.1:" + port,
                    "s3proxy.authorization=aws-v2-or-v4",
                    "s3proxy.identity=" + ACCESS_KEY,
                    "s3proxy.credential=" + SECRET_KEY,
                    "jclouds.provider=filesystem",
                    "jclouds.filesystem.basedir=" + buckets) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", jar.toString(), "--properties", properties.toString());
        ManagedProcess process = ManagedProcess.start("s3proxy", command, Map.of("LOG_LEVEL", "warn"), dir);
        // Any HTTP answer (403 for an unsigned request) means it is serving.
        boolean up = HttpProbe.await(URI.create("http://127.0.0.1:" + port + "/"), r -> r.statusCode() > 0,
                Duration.ofSeconds(60), process);
        if (!up) {
            String log = process.tail(30);
            process.kill();
            throw new FixtureUnavailableException("S3Proxy did not answer on port " + port + " within 60 s; its log:\n"
                    + log);
        }
        return new S3ServerFixture(process, dir, buckets, port);
    }

    private static Path s3ProxyJar() {
        String configured = System.getProperty("s3proxy.jar");
        Path jar = configured != null ? Path.of(configured) : Path.of(System.getProperty("user.home"), ".m2",
                "repository", "org", "gaul", "s3proxy", "4.1.0", "s3proxy-4.1.0-jar-with-dependencies.jar");
        if (!Files.isRegularFile(jar)) {
            throw new FixtureUnavailableException("the S3Proxy server jar is missing at " + jar
                    + ": build the testkit module first (./mvnw install -pl testkit resolves org.gaul:s3proxy)");
        }
        return jar;
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public String region() {
        return "us-east-1";
    }

    public String accessKey() {
        return ACCESS_KEY;
    }

    public String secretKey() {
        return SECRET_KEY;
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
