package io.strata.fetch.cache;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DiskTierWeightTest {
    @Test
    void aChunkWeighsTheWholeFilesystemBlocksItsFileTakes() {
        assertThat(DiskTier.weight(new ChunkKey("o", 0, 300, 0))).isEqualTo(4096 + 256);
        assertThat(DiskTier.weight(new ChunkKey("o", 0, 4096, 0))).isEqualTo(4096 + 256);
        assertThat(DiskTier.weight(new ChunkKey("o", 0, 4097, 0))).isEqualTo(8192 + 256);
    }
}
