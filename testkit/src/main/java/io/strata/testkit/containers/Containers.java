package io.strata.testkit.containers;

import io.strata.testkit.FixtureUnavailableException;
import java.net.URI;
import java.time.Duration;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.localstack.LocalStackContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The servers users test against, as containers: MinIO, LocalStack's S3 and etcd, one of each per test JVM
 * (Testcontainers' reaper removes them when it ends). For the {@code -Pcontainers} profile only, which
 * needs a Docker engine: without one, {@link #requireDocker} fails at once and says so; tests never skip.
 * The default build uses the process fixtures (etcd from Debian, S3Proxy) instead.
 */
public final class Containers {
    public static final String MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z";
    public static final String LOCALSTACK_IMAGE = "localstack/localstack:4.4";
    public static final String ETCD_IMAGE = "gcr.io/etcd-development/etcd:v3.5.21";

    private static MinIOContainer minio;
    private static LocalStackContainer localstack;
    private static GenericContainer<?> etcd;

    private Containers() {
    }

    /** An S3-compatible server in a container: where it is and the keys it takes. */
    public record S3Server(String name, URI endpoint, String region, String accessKey, String secretKey) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Fails, with what to do, when no Docker engine answers. */
    public static void requireDocker() {
        boolean available;
        try {
            available = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            available = false;
        }
        if (!available) {
            throw new FixtureUnavailableException("the containers profile (-Pcontainers) needs a Docker engine, and "
                    + "none answers (DOCKER_HOST, /var/run/docker.sock, ~/.testcontainers.properties): start one, "
                    + "or run the default build, which tests against etcd and S3Proxy processes instead");
        }
    }

    public static synchronized S3Server minio() {
        requireDocker();
        if (minio == null) {
            minio = new MinIOContainer(DockerImageName.parse(MINIO_IMAGE)).withUserName("strata")
                    .withPassword("strata-secret");
            minio.start();
        }
        return new S3Server("MinIO", URI.create(minio.getS3URL()), "us-east-1", minio.getUserName(),
                minio.getPassword());
    }

    public static synchronized S3Server localstack() {
        requireDocker();
        if (localstack == null) {
            localstack = new LocalStackContainer(DockerImageName.parse(LOCALSTACK_IMAGE)).withServices("s3");
            localstack.start();
        }
        return new S3Server("LocalStack", localstack.getEndpoint(),
                localstack.getRegion(), localstack.getAccessKey(), localstack.getSecretKey());
    }

    /** etcd's client URL, e.g. http://localhost:32771. */
    public static synchronized String etcd() {
        requireDocker();
        if (etcd == null) {
            etcd = new GenericContainer<>(DockerImageName.parse(ETCD_IMAGE))
                    .withCommand("etcd", "--name", "strata-test", "--data-dir", "/tmp/etcd",
                            "--listen-client-urls", "http://0.0.0.0:2379",
                            "--advertise-client-urls", "http://127.0.0.1:2379")
                    .withExposedPorts(2379)
                    .waitingFor(Wait.forHttp("/health").forPort(2379).withStartupTimeout(Duration.ofSeconds(60)));
            etcd.start();
        }
        return "http://" + etcd.getHost() + ":" + etcd.getMappedPort(2379);
    }
}
