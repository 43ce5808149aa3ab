package io.strata.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVMs the launcher starts ask for transparent huge pages exactly where the kernel gives them on request or
 * always, and nowhere it would only make the JVM warn.
 */
class HugePagesTest {
    @TempDir
    Path dir;

    @Test
    void theOptionIsGivenWhereTheKernelHandsOutHugePagesOnRequestOrAlways() throws Exception {
        assertThat(HugePages.jvmOptions(setting("always [madvise] never\n"))).containsExactly(HugePages.OPTION);
        assertThat(HugePages.jvmOptions(setting("[always] madvise never\n"))).containsExactly(HugePages.OPTION);
    }

    @Test
    void theOptionIsLeftOutWhereTheyAreOffOrUnknown() throws Exception {
        assertThat(HugePages.jvmOptions(setting("always madvise [never]\n"))).isEmpty();
        assertThat(HugePages.jvmOptions(dir.resolve("absent"))).isEmpty();
    }

    @Test
    void everyJvmTheLauncherStartsTakesWhatThisMachineOffersBeforeTheRolesOwnOptions() {
        List<String> offered = HugePages.jvmOptions();
        List<String> node = Commands.node(Path.of("java"), dir.resolve("server.jar"),
                List.of("-XX:-UseTransparentHugePages"), Map.of(), 1, 2, 3, 0);
        if (offered.isEmpty()) {
            assertThat(node).doesNotContain(HugePages.OPTION);
        } else {
            // The role's own options come later, so the last word on the heap's pages is theirs.
            assertThat(node.indexOf(HugePages.OPTION)).isBetween(0, node.indexOf("-XX:-UseTransparentHugePages"));
        }
        assertThat(Commands.s3Proxy(Path.of("java"), dir.resolve("s3proxy.jar"), dir, dir.resolve("buckets"), 4))
                .containsAll(offered);
        assertThat(Commands.latencyProxy(Path.of("java"), "cp", 5, 6, "s3-standard")).containsAll(offered);
    }

    private Path setting(String content) throws Exception {
        Path file = Files.createTempFile(dir, "enabled", "");
        Files.writeString(file, content);
        return file;
    }
}
