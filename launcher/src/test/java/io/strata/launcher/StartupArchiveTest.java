package io.strata.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartupArchiveTest {
    @TempDir
    Path build;

    @Test
    void theArchiveSitsBesideTheApplicationFolderSoThatImagesCopyingTheFolderLeaveItOut() {
        Path jar = build.resolve("server/target/quarkus-app/quarkus-run.jar");

        assertThat(StartupArchive.of(jar)).isEqualTo(build.resolve("server/target/strata-node.jsa"));
        assertThat(StartupArchive.of(build.resolve("server/target/quarkus-app/../quarkus-app/quarkus-run.jar")))
                .as("the same, however the jar's path is spelled").isEqualTo(StartupArchive.of(jar));
    }

    @Test
    void aNodeMapsTheArchiveOnlyWhenTheBuildWroteOneAndNeverWarnsWhenTheJvmDropsIt() throws Exception {
        Path jar = build.resolve("server/target/quarkus-app/quarkus-run.jar");
        Files.createDirectories(jar.getParent());
        List<String> without = Commands.node(Path.of("java"), jar, List.of("-Xmx64m"), Map.of(), 1, 2, 3, 0);
        assertThat(without).noneMatch(o -> o.contains("SharedArchiveFile"));

        Files.write(StartupArchive.of(jar), new byte[] {1});
        List<String> with = Commands.node(Path.of("java"), jar, List.of("-Xmx64m"), Map.of(), 1, 2, 3, 0);

        assertThat(with).contains("-XX:SharedArchiveFile=" + StartupArchive.of(jar), "-Xlog:cds=off",
                "-Xlog:cds+dynamic=off");
        assertThat(with.indexOf("-Xmx64m")).as("the caller's options after it: a later option wins")
                .isGreaterThan(with.indexOf("-XX:SharedArchiveFile=" + StartupArchive.of(jar)));
        assertThat(with.get(with.size() - 1)).as("the jar, as the archive recorded it").isEqualTo(jar.toString());
    }
}
