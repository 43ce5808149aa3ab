package io.strata.launcher;

import java.nio.file.Path;
import java.util.List;

/**
 * One process of a local cluster as it was defined at {@code cluster up}: enough to start it again with
 * {@code cluster start NAME} (same command, same ports, same data).
 *
 * @param port     where clients reach it: etcd's client port, S3's HTTP port, a node's gRPC port
 * @param httpPort where its readiness is asked (the same as {@code port} for etcd and S3)
 * @param kafkaPort a node's Kafka listener (0: none)
 */
public record Member(String name, Role role, int port, int httpPort, List<String> command, Path workDir,
                     int kafkaPort) {
    public Member {
        command = List.copyOf(command);
    }

    /** A member without a Kafka listener. */
    public Member(String name, Role role, int port, int httpPort, List<String> command, Path workDir) {
        this(name, role, port, httpPort, command, workDir, 0);
    }

    public Path log() {
        return workDir.resolve(name + ".log");
    }

    /** Where clients reach it, as host:port. */
    public String address() {
        return "127.0.0.1:" + port;
    }

    /** Where its health (and a node's metrics, /q/metrics) are, as host:port. */
    public String httpAddress() {
        return "127.0.0.1:" + httpPort;
    }
}
