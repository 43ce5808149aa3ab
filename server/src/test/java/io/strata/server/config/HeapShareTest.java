package io.strata.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class HeapShareTest {
    @Test
    void aDefaultTheHeapCannotHoldIsCutWithoutAWarning() {
        assertThat(HeapShare.of(Optional.empty(), 128 << 20, 96 << 20)).isEqualTo(new HeapShare(96 << 20, false));
    }

    @Test
    void aSizeSetThatTheHeapCannotHoldIsCutAndSaid() {
        assertThat(HeapShare.of(Optional.of(256L << 20), 128 << 20, 96 << 20))
                .isEqualTo(new HeapShare(96 << 20, true));
    }

    @Test
    void sizesWithinTheCapAreKeptAsTheyAre() {
        assertThat(HeapShare.of(Optional.of(64L << 20), 128 << 20, 96 << 20)).isEqualTo(new HeapShare(64 << 20, false));
        assertThat(HeapShare.of(Optional.empty(), 128 << 20, 256 << 20)).isEqualTo(new HeapShare(128 << 20, false));
    }
}
