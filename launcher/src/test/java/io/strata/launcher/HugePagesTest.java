package io.strata.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
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

    private Path setting(String content) throws Exception {
        Path file = Files.createTempFile(dir, "enabled", "");
        Files.writeString(file, content);
        return file;
    }
}
