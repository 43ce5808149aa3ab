package io.strata.fetch.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskTierDirectoryTest {
    @TempDir
    Path dir;

    @Test
    void aNewDirectoryIsMadeAndMarkedAsTheCaches() throws Exception {
        Path cache = dir.resolve("fetch-cache");

        DiskTier.wipe(cache);

        assertThat(cache.resolve(DiskTier.MARKER)).exists();
    }

    @Test
    void theCachesOwnDirectoryIsEmptiedAtTheNextStartMarkerKept() throws Exception {
        Path cache = dir.resolve("fetch-cache");
        DiskTier.wipe(cache);
        Files.writeString(cache.resolve("17"), "a chunk of an earlier run");
        Files.createDirectories(cache.resolve("sub"));
        Files.writeString(cache.resolve("sub/18"), "another");

        DiskTier.wipe(cache);

        try (var left = Files.list(cache)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly(DiskTier.MARKER);
        }
    }

    @Test
    void aDirectoryWithFilesTheCacheDidNotWriteIsRefusedAndLeftAsItIs() throws Exception {
        Files.writeString(dir.resolve("thesis.tex"), "years of work");

        assertThatThrownBy(() -> DiskTier.wipe(dir)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("holds files the cache did not write")
                .hasMessageContaining("strata.fetch.disk-cache-dir");
        assertThat(dir.resolve("thesis.tex")).hasContent("years of work");
    }

    @Test
    void anEmptyExistingDirectoryIsTaken() throws Exception {
        DiskTier.wipe(dir);

        assertThat(dir.resolve(DiskTier.MARKER)).exists();
    }
}
