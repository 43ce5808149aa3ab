package io.strata.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The command lines of the processes Strata runs locally: etcd, S3Proxy and Strata server nodes. The local
 * cluster ({@link LocalCluster}) and the test fixtures build them here, so what the tests run is what
 * users run.
 */
public final class Commands {
    /** S3Proxy's credentials: it listens on loopback only, for this machine's processes. */
    public static final String S3_ACCESS_KEY = "strata-local";
    public static final String S3_SECRET_KEY = "strata-local-secret";
    /**
     * Every server JVM is started with the quick (C1) compiler only. A node's hot paths are native (zstd,
     * CRC32C intrinsics, copies, sockets), so the optimising compiler gains them nothing measurable (full-speed
     * produce and consume on the embedded default: same or better with C1), while compiling with it costs a cold
     * node tens of CPU seconds in its first minute; on a small machine that starves every process of a cluster
     * and a cold cluster's first produce p99 went from 4-8 s to 220 ms (docs/benchmarks.md). A later
     * {@code -XX:TieredStopAtLevel=4} among a role's options brings it back.
     */
    public static final String QUICK_JIT = "-XX:TieredStopAtLevel=1";
    /**
     * A node's collector aims at pauses of 20 ms, not G1's default 200, as Kafka's start script has its brokers do:
     * every pause stops every client's calls on the node, and with the default a fresh node's young generation grew
     * to hundreds of megabytes, whose collections paused it 44–214 ms while a share group's acknowledgements waited.
     * With the target the same paced run's ack p50 went from 6.3–6.7 to 3.6–4.2 ms and the node spent 15 % less
     * CPU; full-speed produce was the same within this machine's scatter (docs/benchmarks.md, "A node's pause
     * target"). A later {@code -XX:MaxGCPauseMillis} among a role's options wins.
     */
    public static final String NODE_PAUSE_TARGET = "-XX:MaxGCPauseMillis=20";
    /**
     * A node's heap is at most 2 GiB unless its own options size it ({@link #sizesHeap}; {@code strata cluster up}'s
     * roles give 1 GiB), as Kafka's start script fixes its brokers' heap at 1 GiB. Left at the
     * JVM's default bound, a quarter of the machine's memory, G1 grew the embedded default's heap to 5 GiB under
     * full-speed produce though it held 300 MB live, and clearing the pages it newly touched (2 MiB a fault, on huge
     * pages) took a fifth of the node's CPU: full-speed produce was 12 % below the build of 2026-11-26, and within
     * its scatter with the bound (docs/benchmarks.md, "A node's heap").
     */
    public static final String NODE_HEAP = "-Xmx2g";
    /** The prefixes of the options that size a heap: any of them among a node's own replaces {@link #NODE_HEAP}. */
    private static final List<String> HEAP_SIZING = List.of("-Xmx", "-Xms", "-XX:MaxHeapSize=", "-XX:InitialHeapSize=",
            "-XX:MinHeapSize=", "-XX:SoftMaxHeapSize=", "-XX:MaxRAM", "-XX:InitialRAM", "-XX:MinRAM");

    private Commands() {
    }

    /** A single-member etcd on loopback, keeping its data in {@code dataDir}. */
    public static List<String> etcd(Path binary, String name, Path dataDir, int clientPort, int peerPort) {
        String client = "http://127.0.0.1:" + clientPort;
        String peer = "http://127.0.0.1:" + peerPort;
        return List.of(binary.toString(),
                "--name", name,
                "--data-dir", dataDir.toString(),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", name + "=" + peer, "--initial-cluster-state", "new",
                "--log-level", "warn");
    }

    /**
     * S3Proxy on loopback with AWS signature v2/v4 and its filesystem backend: each directory of {@code
     * buckets} is a bucket. Writes the properties file it reads into {@code workDir}.
     */
    public static List<String> s3Proxy(Path java, Path jar, Path workDir, Path buckets, int port) {
        Path properties = workDir.resolve("s3proxy.conf");
        try {
            Files.createDirectories(buckets);
            Files.writeString(properties, String.join("\n",
                    "s3proxy.endpoint=http://127.0.0.1:" + port,
                    "s3proxy.authorization=aws-v2-or-v4",
                    "s3proxy.identity=" + S3_ACCESS_KEY,
                    "s3proxy.credential=" + S3_SECRET_KEY,
                    "jclouds.provider=filesystem",
                    "jclouds.filesystem.basedir=" + buckets.toAbsolutePath()) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // As much heap as the benchmarks have always given it: a busy S3Proxy buffers whole objects.
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx1g", QUICK_JIT));
        command.addAll(HugePages.jvmOptions());
        command.addAll(List.of("-jar", jar.toString(), "--properties", properties.toString()));
        return command;
    }

    /**
     * The network proxy that holds each answer of the S3 server on {@code targetPort} back by a latency drawn
     * from {@code model} ({@link io.strata.launcher.net.FaultyHttpProxy}), run from the launcher's own classes.
     */
    public static List<String> latencyProxy(Path java, String launcherClasspath, int port, int targetPort,
                                            String model) {
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx256m", QUICK_JIT));
        command.addAll(HugePages.jvmOptions());
        command.addAll(List.of("-cp", launcherClasspath, io.strata.launcher.net.FaultyHttpProxy.class.getName(),
                "--port", Integer.toString(port), "--target", "127.0.0.1:" + targetPort, "--latency", model));
        return command;
    }

    /**
     * Whether {@code options} size the heap themselves. Then a node gets no {@link #NODE_HEAP} before them: a bound
     * they do not override would either stop the JVM ({@code -Xms4g} alone: an initial size above the maximum) or
     * silently beat theirs ({@code -XX:MaxRAMPercentage=75}). {@code scripts/jvm-options} decides the same way.
     */
    static boolean sizesHeap(List<String> options) {
        return options.stream().anyMatch(o -> HEAP_SIZING.stream().anyMatch(o::startsWith));
    }

    /** The environment S3Proxy runs with (its own logging is chatty at INFO). */
    public static Map<String, String> s3ProxyEnvironment() {
        return Map.of("LOG_LEVEL", "warn");
    }

    /**
     * A Strata server node, its JVM given the {@linkplain StartupArchive startup archive} when the build made one, its
     * heap {@linkplain HugePages huge pages} where the kernel offers them, and {@code jvmOptions} (the heap, say):
     * gRPC on {@code grpcPort}, health and metrics on {@code httpPort} and node-to-node calls on {@code
     * internalPort} (0: any free one), Kafka clients on {@code kafkaPort} (0: no Kafka listener), all on loopback,
     * with {@code settings} as system properties (sorted, so a command line reads the same each time).
     */
    public static List<String> node(Path java, Path serverJar, List<String> jvmOptions, Map<String, String> settings,
                                    int grpcPort, int httpPort, int internalPort, int kafkaPort) {
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        command.add("-XX:+ExitOnOutOfMemoryError");
        command.add(QUICK_JIT);
        command.add(NODE_PAUSE_TARGET);
        if (!sizesHeap(jvmOptions)) {
            command.add(NODE_HEAP);
        }
        command.addAll(HugePages.jvmOptions());
        command.addAll(StartupArchive.options(java, serverJar));
        command.addAll(jvmOptions); // after the defaults: a later -XX option wins
        command.add("-Dquarkus.grpc.server.port=" + grpcPort);
        command.add("-Dquarkus.http.port=" + httpPort);
        command.add("-Dstrata.internal.port=" + internalPort);
        command.add("-Dstrata.kafka.port=" + kafkaPort);
        command.add("-Dquarkus.http.host=127.0.0.1");
        new TreeMap<>(settings).forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        // Normalized: the startup archive holds the jar's path as the build wrote it, and the JVM compares the two.
        command.add(serverJar.toAbsolutePath().normalize().toString());
        return command;
    }
}
