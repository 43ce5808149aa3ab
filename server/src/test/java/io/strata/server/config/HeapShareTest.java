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
    @Test
    void theHeapIsWhatTheJvmWasGivenUnderEveryCollector() throws Exception {
        for (String collector : new String[] {"-XX:+UseSerialGC", "-XX:+UseG1GC"}) {
            Process child = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), collector, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                    PrintMaxHeap.class.getName()).redirectErrorStream(true).start();
            String out = new String(child.getInputStream().readAllBytes()).strip();
            assertThat(child.waitFor()).as(out).isZero();
            assertThat(out).as(collector).isEqualTo(String.valueOf(512L << 20));
        }
    }

    /** Prints {@link HeapShare#maxHeap()} in a JVM of its own. */
    public static final class PrintMaxHeap {
        public static void main(String[] args) {
            System.out.println(HeapShare.maxHeap());
        }
    }
}
