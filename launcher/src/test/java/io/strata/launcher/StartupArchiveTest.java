package io.strata.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartupArchiveTest {
    @TempDir
    Path build;
    private Path jar;
    private Path java17;

    @BeforeEach
    void layout() throws Exception {
        jar = build.resolve("server/target/quarkus-app/quarkus-run.jar");
        Files.createDirectories(jar.getParent());
        java17 = jdk("jdk-17", "17.0.21.1+2");
    }

    private Path jdk(String name, String version) throws Exception {
        Path home = build.resolve(name);
        Files.createDirectories(home.resolve("bin"));
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"x\"\nJAVA_RUNTIME_VERSION=\"" + version + "\"\n");
        return Files.writeString(home.resolve("bin/java"), "");
    }

    private void archiveWrittenBy(Path java) throws Exception {
        Files.write(StartupArchive.of(jar), new byte[] {1});
        Files.writeString(StartupArchive.of(jar).resolveSibling(StartupArchive.STAMP),
                StartupArchive.stamp(java).orElseThrow());
    }

    private List<String> node(Path java) {
        return Commands.node(java, jar, List.of("-Xmx64m"), Map.of(), 1, 2, 3, 0);
    }

    @Test
    void theArchiveSitsBesideTheApplicationFolderSoThatImagesCopyingTheFolderLeaveItOut() {
        assertThat(StartupArchive.of(jar)).isEqualTo(build.resolve("server/target/strata-node.jsa"));
        assertThat(StartupArchive.of(build.resolve("server/target/quarkus-app/../quarkus-app/quarkus-run.jar")))
                .as("the same, however the jar's path is spelled").isEqualTo(StartupArchive.of(jar));
    }

    @Test
    void aNodeOfTheJvmThatWroteTheArchiveMapsItBeforeTheCallersOptionsAndWithoutWarnings() throws Exception {
        archiveWrittenBy(java17);

        List<String> command = node(java17);

        assertThat(command).contains("-XX:SharedArchiveFile=" + StartupArchive.of(jar), "-Xlog:cds=off",
                "-Xlog:cds+dynamic=off");
        assertThat(command.indexOf("-Xmx64m")).as("the caller's options after it: a later option wins")
                .isGreaterThan(command.indexOf("-XX:SharedArchiveFile=" + StartupArchive.of(jar)));
        assertThat(command.get(command.size() - 1)).as("the jar, as the archive recorded it").isEqualTo(jar.toString());
    }

    @Test
    void aNodeOfAnotherJvmOrAnotherBuildOfItIsNeverGivenTheArchive() throws Exception {
        archiveWrittenBy(java17);
        Path java25 = jdk("jdk-25", "25.0.3+9-LTS");

        assertThat(node(java25)).as("another Java version would turn class sharing off altogether")
                .noneMatch(o -> o.contains("SharedArchiveFile"));
        Files.writeString(java17.getParent().getParent().resolve("release"), "JAVA_RUNTIME_VERSION=\"17.0.22+1\"\n");
        assertThat(node(java17)).as("the same installation, updated in place")
                .noneMatch(o -> o.contains("SharedArchiveFile"));
    }

    @Test
    void withoutAnArchiveOrItsStampANodeStartsWithoutOne() throws Exception {
        assertThat(node(java17)).noneMatch(o -> o.contains("SharedArchiveFile"));

        Files.write(StartupArchive.of(jar), new byte[] {1});
        assertThat(node(java17)).as("an archive whose stamp is not written yet: not known whole")
                .noneMatch(o -> o.contains("SharedArchiveFile"));
    }

    @Test
    void theCommandLinesArchiveSitsBesideItsJarWithItsOwnStampAndIsMappedOnlyForItsJvm() throws Exception {
        Path cliJar = build.resolve("cli/target/strata-cli.jar");
        Files.createDirectories(cliJar.getParent());
        Path archive = StartupArchive.ofCommandLine(cliJar);
        assertThat(archive).isEqualTo(build.resolve("cli/target/strata-cli.jsa"));
        assertThat(StartupArchive.stampOf(archive)).isEqualTo(build.resolve("cli/target/strata-cli.jsa.jvm"));
        assertThat(StartupArchive.stampOf(StartupArchive.of(jar))).as("the node's, as before")
                .isEqualTo(StartupArchive.of(jar).resolveSibling(StartupArchive.STAMP));

        Files.write(archive, new byte[] {1});
        assertThat(StartupArchive.mapping(java17, archive)).as("no stamp yet").isEmpty();
        Files.writeString(StartupArchive.stampOf(archive), StartupArchive.stamp(java17).orElseThrow());
        assertThat(StartupArchive.mapping(java17, archive)).containsExactly("-XX:SharedArchiveFile=" + archive,
                "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
        assertThat(StartupArchive.mapping(jdk("jdk-25", "25.0.3+9-LTS"), archive)).isEmpty();
        assertThat(node(java17)).as("the command line's archive is not the node's")
                .noneMatch(o -> o.contains("SharedArchiveFile"));
    }
}
