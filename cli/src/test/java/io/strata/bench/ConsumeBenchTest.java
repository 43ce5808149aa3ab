package io.strata.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ConsumeBenchTest {
    /** Hands out {@code perPoll} records of 10 bytes a poll, each poll taking {@code pollMillis}, up to {@code total}. */
    private static final class PacedSource implements ConsumeSource {
        private final int total;
        private final int perPoll;
        private final long pollMillis;
        private int given;

        PacedSource(int total, int perPoll, long pollMillis) {
            this.total = total;
            this.perPoll = perPoll;
            this.pollMillis = pollMillis;
        }

        @Override
        public void poll(Duration timeout, Consumer<byte[]> values) {
            try {
                Thread.sleep(pollMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (int i = 0; i < perPoll && given < total; i++, given++) {
                values.accept(new byte[10]);
            }
        }

        @Override
        public boolean caughtUp() {
            return given >= total;
        }

        @Override
        public void close() {
        }
    }

    private static String value(java.util.List<String> lines, String name) {
        return lines.stream().filter(l -> l.startsWith("consume." + name + "=")).map(l -> l.substring(l.indexOf('=') + 1))
                .findFirst().orElse(null);
    }

    @Test
    void aWarmUpReportsTheRateOfWhatWasReadAfterItBesideTheWholeRun() {
        ConsumeBench bench = new ConsumeBench(Duration.ofMinutes(1), Duration.ofMillis(200));

        ConsumeBench.Result result = bench.run(new PacedSource(400, 10, 10), new PrintWriter(new StringWriter()));

        java.util.List<String> lines = result.lines("consume");
        assertThat(value(lines, "records")).isEqualTo("400");
        assertThat(value(lines, "complete")).isEqualTo("true");
        long measured = result.measuredRecords();
        // Some of the 40 polls fall in the warm-up (about 20, fewer on a busy machine): what is measured is what
        // came after it, never all of it, and from the first poll after it on.
        assertThat(measured).isBetween(10L, 390L);
        assertThat(result.measuredBytes()).isEqualTo(measured * 10);
        assertThat(result.seconds() - result.measuredSeconds()).isBetween(0.2, 1.0);
        assertThat(Double.parseDouble(value(lines, "measured_records_per_s")))
                .isCloseTo(measured / result.measuredSeconds(), org.assertj.core.data.Offset.offset(1.0));
    }

    @Test
    void withoutAWarmUpOrARunShorterThanItOnlyTheWholeRunIsReported() {
        ConsumeBench.Result plain = new ConsumeBench(Duration.ofMinutes(1))
                .run(new PacedSource(50, 10, 5), new PrintWriter(new StringWriter()));
        ConsumeBench.Result shortRun = new ConsumeBench(Duration.ofMinutes(1), Duration.ofSeconds(30))
                .run(new PacedSource(50, 10, 5), new PrintWriter(new StringWriter()));

        assertThat(plain.lines("consume")).noneMatch(l -> l.startsWith("consume.measured_"));
        assertThat(shortRun.lines("consume")).noneMatch(l -> l.startsWith("consume.measured_"));
        assertThat(value(shortRun.lines("consume"), "records")).isEqualTo("50");
    }
}
