package io.strata.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVMs the launcher starts get its defaults (the quick compiler, a node's pause target and heap bound, huge pages
 * where this machine offers them) before a role's own options, so that a role's own always has the last word.
 */
class CommandsTest {
    @TempDir
    Path dir;

    @Test
    void aNodesJvmDefaultsComeBeforeTheRolesOwnOptions() {
        List<String> own = List.of("-XX:TieredStopAtLevel=4", "-XX:MaxGCPauseMillis=200",
                "-XX:-UseTransparentHugePages");
        List<String> node = Commands.node(Path.of("java"), dir.resolve("server.jar"), own, Map.of(), 1, 2, 3, 0);
        int first = node.indexOf(own.get(0));
        assertThat(node).containsSubsequence(own);
        assertThat(node.indexOf(Commands.QUICK_JIT)).isBetween(1, first);
        assertThat(node.indexOf(Commands.NODE_PAUSE_TARGET)).isBetween(1, first);
        assertThat(node.indexOf(Commands.NODE_HEAP)).isBetween(1, first);
        for (String offered : HugePages.jvmOptions()) {
            assertThat(node.indexOf(offered)).isBetween(1, first);
        }
        assertThat(node.subList(first, node.size())).doesNotContain(Commands.QUICK_JIT, Commands.NODE_PAUSE_TARGET,
                Commands.NODE_HEAP, HugePages.OPTION);
    }

    @Test
    void aNodeWhoseOwnOptionsSizeTheHeapGetsNoBoundOfTheLaunchers() throws Exception {
        // -Xms4g after -Xmx2g would stop the JVM; -XX:MaxRAMPercentage after it would be silently ignored.
        for (String own : List.of("-Xms4g", "-Xmx1g", "-XX:MaxHeapSize=3g", "-XX:InitialHeapSize=3g",
                "-XX:MinHeapSize=3g", "-XX:SoftMaxHeapSize=1g", "-XX:MaxRAMPercentage=75",
                "-XX:InitialRAMPercentage=50", "-XX:MinRAMPercentage=50", "-XX:MaxRAM=8g")) {
            List<String> node = Commands.node(Path.of("java"), dir.resolve("server.jar"), List.of(own), Map.of(),
                    1, 2, 3, 0);
            assertThat(node).as(own).contains(own).doesNotContain(Commands.NODE_HEAP);
            assertThat(scriptDefaults("node", "-Dstrata.x=1", own)).as(own).doesNotContain(Commands.NODE_HEAP);
        }
        // Options that size no heap (-Xss is a thread's stack) leave the bound in place, in both.
        List<String> others = List.of("-Dstrata.x=1", "-Xss512k", "-XX:+UseZGC");
        assertThat(Commands.node(Path.of("java"), dir.resolve("server.jar"), others, Map.of(), 1, 2, 3, 0))
                .contains(Commands.NODE_HEAP);
        List<String> args = new java.util.ArrayList<>(List.of("node"));
        args.addAll(others);
        assertThat(scriptDefaults(args.toArray(String[]::new))).contains(Commands.NODE_HEAP);
    }

    @Test
    void theScriptsStartNodesWithTheLaunchersDefaults() throws Exception {
        // ./strata server and the benchmark scripts take theirs from scripts/jvm-options.
        List<String> launchers = new java.util.ArrayList<>(List.of(Commands.QUICK_JIT, Commands.NODE_PAUSE_TARGET,
                Commands.NODE_HEAP, "-XX:+ExitOnOutOfMemoryError"));
        launchers.addAll(HugePages.jvmOptions());
        assertThat(scriptDefaults("node")).containsExactlyInAnyOrderElementsOf(launchers);
    }

    /** What scripts/jvm-options prints for {@code args} (the module's directory is the tests' working directory). */
    private static List<String> scriptDefaults(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("bash", Path.of("..", "scripts", "jvm-options")
                .toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String printed = new String(p.getInputStream().readAllBytes()).trim();
        assertThat(p.waitFor()).as(printed).isZero();
        return List.of(printed.split(" "));
    }

    @Test
    void theLocalS3ServerAndTheLatencyProxyGetHugePagesWhereThisMachineOffersThem() {
        List<String> offered = HugePages.jvmOptions();
        assertThat(Commands.s3Proxy(Path.of("java"), dir.resolve("s3proxy.jar"), dir, dir.resolve("buckets"), 4))
                .containsAll(offered);
        assertThat(Commands.latencyProxy(Path.of("java"), "cp", 5, 6, "s3-standard")).containsAll(offered);
    }
}
