package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.HandOverChunksRequest;
import io.strata.api.v1.NodeServiceGrpc;
import io.strata.client.StrataClient;
import io.strata.launcher.Commands;
import io.strata.launcher.Installation;
import io.strata.launcher.ManagedProcess;
import io.strata.launcher.Ports;
import io.strata.testkit.etcd.EtcdFixture;
import io.strata.testkit.s3.S3ServerFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a node starts where it is deployed: a missing setting stops it at once, by name; etcd or a bucket
 * that does not answer yet leaves it running but not ready, saying why, until they answer; node-to-node
 * calls are on the internal port only.
 */
class NodeStartupTest {
    @TempDir
    Path work;
    private StrataProcess node;
    private ManagedProcess lateEtcd;

    @AfterEach
    void stop() {
        if (node != null) {
            node.kill();
        }
        if (lateEtcd != null) {
            lateEtcd.kill();
        }
    }

    @Test
    void aMissingRequiredSettingStopsTheNodeAtOnceNamingIt() throws Exception {
        node = new StrataProcess("no-endpoints", Map.of("strata.roles", "ingest", "strata.metadata.type", "etcd",
                "strata.data-dir", work.resolve("data").toString()), work.resolve("node")).launch();

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (node.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }

        assertThat(node.isAlive()).as("exited").isFalse();
        assertThat(node.exitCode()).isPresent();
        assertThat(node.exitCode().getAsInt()).as("exit code").isNotZero();
        assertThat(node.logTail(60)).contains("missing required setting strata.metadata.etcd-endpoints")
                .contains("STRATA_METADATA_ETCD_ENDPOINTS");
    }

    @Test
    void aNodeStaysNotReadyUntilEtcdAnswersSaysWhyAndThenServes() throws Exception {
        int etcdPort = Ports.freePort();
        Map<String, String> settings = s3Settings(bucket());
        settings.put("strata.metadata.etcd-endpoints", "http://127.0.0.1:" + etcdPort);
        node = new StrataProcess("early", settings, work.resolve("node")).launch();

        awaitLog("Not ready: etcd at [http://127.0.0.1:" + etcdPort + "] does not answer");
        assertThat(node.isAlive()).isTrue();
        assertThat(node.isLive()).as("live: a restart would not help").isTrue();
        assertThat(node.isReady()).as("not ready: no traffic yet").isFalse();

        lateEtcd = ManagedProcess.start("late-etcd", Commands.etcd(new Installation(Path.of("..")).etcd(), "late",
                work.resolve("etcd/data"), etcdPort, Ports.freePort()), Map.of(), work.resolve("etcd"));
        node.awaitReady(Duration.ofSeconds(90));

        assertServes(node);
    }

    @Test
    void aNodeStaysNotReadyUntilItsBucketExistsAndNamesIt() throws Exception {
        String bucket = "late-" + System.nanoTime();
        node = new StrataProcess("no-bucket", withEtcd(s3Settings(bucket)), work.resolve("node")).launch();

        awaitLog("bucket '" + bucket + "' does not exist");
        assertThat(node.isReady()).isFalse();

        S3ServerFixture.shared().createBucket(bucket);
        node.awaitReady(Duration.ofSeconds(60));

        assertServes(node);
    }

    @Test
    void nodeToNodeCallsAreNotServedOnTheClientPort() throws Exception {
        node = new StrataProcess("ports", withEtcd(s3Settings(bucket())), work.resolve("node")).start();
        ManagedChannel channel = ManagedChannelBuilder.forTarget(node.address()).usePlaintext().build();
        try {
            assertThatThrownBy(() -> NodeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .handOverChunks(HandOverChunksRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void aNodeStartsFromTheStartupArchiveTheBuildTrained() throws Exception {
        Path archive = io.strata.launcher.StartupArchive.of(StrataProcess.serverJar());
        assertThat(archive).as("written by the server module's build (its output says why not; a build with "
                + "-Dstrata.startup-archive.skip leaves none, or a stale one)").isRegularFile();
        node = new StrataProcess("archived", Map.of("strata.data-dir", work.resolve("data").toString()),
                work.resolve("node")).start();

        // Mapped, not only named: the JVM drops an archive written for other jars, silently.
        assertThat(node.mappedFiles()).as("the node's mapped files").contains(archive.toRealPath().toString());
        assertServes(node);
    }

    @Test
    void aCommandStartsFromTheCommandLinesStartupArchiveTheScriptMapsForItsOwnJvm() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        Path archive = io.strata.launcher.StartupArchive.ofCommandLine(root.resolve("cli/target/strata-cli.jar"));
        assertThat(archive).as("written by the cli module's build (its output says why not; a build with "
                + "-Dstrata.startup-archive.skip leaves none, or a stale one)").isRegularFile();
        Path loads = work.resolve("class-loads.txt");
        // The command as a user types it (a port nobody listens on: it fails as an unreachable call does, exit 1).
        ProcessBuilder command = new ProcessBuilder(root.resolve("strata").toString(), "--server",
                "127.0.0.1:" + Ports.freePort(), "topics", "list").redirectErrorStream(true)
                .redirectOutput(work.resolve("out.txt").toFile());
        command.environment().put("JAVA_OPTS", "-Xlog:class+load=info:file=" + loads);
        command.environment().keySet().removeIf(v -> v.startsWith("STRATA_"));
        // The script runs the java on PATH: this JVM's, which built the archive (as the build's java is a user's).
        command.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + java.io.File.pathSeparator
                + System.getenv("PATH"));
        Process cli = command.start();
        try {
            assertThat(cli.waitFor(60, TimeUnit.SECONDS)).as("the command ends").isTrue();
        } finally {
            cli.destroyForcibly();
        }
        String out = Files.readString(work.resolve("out.txt"));
        assertThat(cli.exitValue()).as(out).isEqualTo(1);
        assertThat(out).contains("cannot reach Strata");

        // Classes from the archive on top of the JDK's ("shared objects file (top)"): the script gave it, and the JVM
        // mapped it rather than dropping it as written for other jars or another JVM.
        long archived;
        try (var lines = Files.lines(loads)) {
            archived = lines.filter(l -> l.contains("source: shared objects file (top)")).count();
        }
        assertThat(archived).as("classes the command took from " + archive).isGreaterThan(1_000);
    }

    @Test
    void theServerCommandAnswersHelpAndRefusesAnArgumentInsteadOfStartingANodeThatIgnoresIt() throws Exception {
        Script help = script(work.resolve("help.txt"), "server", "--help");
        assertThat(help.exit()).as(help.out()).isZero();
        assertThat(help.out()).contains("Usage: strata server").contains("JAVA_OPTS").contains("docs/configuration.md");

        Script option = script(work.resolve("option.txt"), "server", "--port", "9500");
        assertThat(option.exit()).as(option.out()).isEqualTo(2);
        assertThat(option.out()).contains("strata server: takes no arguments, not '--port'")
                .contains("Usage: strata server").doesNotContain("serving");
    }

    /** What the strata script printed (output and errors) and its exit code; a script still running fails. */
    private record Script(int exit, String out) {
    }

    private Script script(Path output, String... arguments) throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        List<String> line = new ArrayList<>(List.of(root.resolve("strata").toString()));
        line.addAll(List.of(arguments));
        ProcessBuilder command = new ProcessBuilder(line).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(output.toFile());
        command.environment().keySet().removeIf(v -> v.startsWith("STRATA_") || v.equals("JAVA_OPTS"));
        Process process = command.start();
        try {
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the script ends (a node would run on)").isTrue();
        } finally {
            process.destroyForcibly();
        }
        return new Script(process.exitValue(), Files.readString(output));
    }

    private void assertServes(StrataProcess n) throws Exception {
        try (StrataClient client = StrataClient.builder().server(n.address()).build()) {
            client.admin().createTopic("started", 1);
            try (var producer = client.producer()) {
                assertThat(producer.send("started", 0, null, "first".getBytes(StandardCharsets.UTF_8))
                        .get(30, TimeUnit.SECONDS).offset()).isZero();
            }
        }
    }

    private void awaitLog(String line) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!node.logTail(200).contains(line)) {
            assertThat(node.isAlive()).as("alive while waiting; its log:\n" + node.logTail(40)).isTrue();
            assertThat(System.nanoTime()).as("'" + line + "' in the log:\n" + node.logTail(40)).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private String bucket() {
        String bucket = "startup-" + System.nanoTime();
        S3ServerFixture.shared().createBucket(bucket);
        return bucket;
    }

    private Map<String, String> s3Settings(String bucket) {
        Map<String, String> settings = StrataCluster.storeSettings(bucket);
        settings.put("strata.roles", "ingest,fetch");
        settings.put("strata.node-id", "startup-" + System.nanoTime());
        settings.put("strata.data-dir", work.resolve("data").toString());
        settings.put("strata.metadata.timeout", "3s");
        return settings;
    }

    private static Map<String, String> withEtcd(Map<String, String> settings) {
        settings.put("strata.metadata.etcd-endpoints", EtcdFixture.shared().endpoint());
        return settings;
    }
}
