package io.strata.bench;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The catch-up consume benchmark: reads a source from where it starts to the end it had when opened, as
 * fast as it can, printing progress every five seconds and ending with machine-readable lines
 * {@code consume.<figure>=<value>}: the whole run's, and with a warm-up also the rate after it
 * ({@code measured_records_per_s}), as the produce benchmark measures after its warm-up. Runs on the calling
 * thread.
 */
public final class ConsumeBench {
    /** The figures of one run. */
    public record Result(long records, long bytes, double seconds, boolean complete, long measuredRecords,
                         long measuredBytes, double measuredSeconds) {
        public List<String> lines(String prefix) {
            List<String> lines = new java.util.ArrayList<>(List.of(
                    String.format(Locale.ROOT, "%s.records_per_s=%.0f", prefix, records / seconds),
                    String.format(Locale.ROOT, "%s.mb_s=%.2f", prefix, bytes / seconds / 1e6),
                    String.format(Locale.ROOT, "%s.records=%d", prefix, records),
                    String.format(Locale.ROOT, "%s.bytes=%d", prefix, bytes),
                    String.format(Locale.ROOT, "%s.seconds=%.2f", prefix, seconds),
                    String.format(Locale.ROOT, "%s.complete=%s", prefix, complete)));
            if (measuredRecords > 0) {
                lines.add(String.format(Locale.ROOT, "%s.measured_records_per_s=%.0f", prefix,
                        measuredRecords / measuredSeconds));
                lines.add(String.format(Locale.ROOT, "%s.measured_mb_s=%.2f", prefix,
                        measuredBytes / measuredSeconds / 1e6));
                lines.add(String.format(Locale.ROOT, "%s.measured_seconds=%.2f", prefix, measuredSeconds));
            }
            return lines;
        }
    }

    private final Duration timeout;
    private final Duration warmup;

    /** {@code timeout}: how long the run may take before it stops short (reported as complete=false). */
    public ConsumeBench(Duration timeout) {
        this(timeout, Duration.ZERO);
    }

    /**
     * With {@code warmup} above zero, also reports the rate from then on (nothing when the run ends sooner): the
     * first seconds of a fresh reader and node (the compiler, the first reads from the bucket) apart from the
     * rate they settle at.
     */
    public ConsumeBench(Duration timeout, Duration warmup) {
        if (warmup.isNegative()) {
            throw new IllegalArgumentException("--warmup must not be negative, not " + warmup);
        }
        this.timeout = timeout;
        this.warmup = warmup;
    }

    public Result run(ConsumeSource source, PrintWriter progress) {
        long[] counts = new long[2]; // records, bytes
        long start = System.nanoTime();
        long until = start + timeout.toNanos();
        long lastReport = start;
        long lastBytes = 0;
        long warmEnds = start + warmup.toNanos();
        long[] atWarm = null; // records, bytes, nanos when the warm-up ended
        while (!source.caughtUp() && System.nanoTime() < until) {
            source.poll(Duration.ofMillis(500), value -> {
                counts[0]++;
                counts[1] += value.length;
            });
            long now = System.nanoTime();
            if (atWarm == null && !warmup.isZero() && now >= warmEnds) {
                atWarm = new long[] {counts[0], counts[1], now};
            }
            if (now - lastReport >= TimeUnit.SECONDS.toNanos(5)) {
                double secs = (now - lastReport) / 1e9;
                progress.printf(Locale.ROOT, "%6.0fs %10d records read %8.2f MB/s%n", (now - start) / 1e9, counts[0],
                        (counts[1] - lastBytes) / secs / 1e6);
                progress.flush();
                lastBytes = counts[1];
                lastReport = now;
            }
        }
        long end = System.nanoTime();
        double seconds = (end - start) / 1e9;
        return atWarm == null ? new Result(counts[0], counts[1], seconds, source.caughtUp(), 0, 0, 0)
                : new Result(counts[0], counts[1], seconds, source.caughtUp(), counts[0] - atWarm[0],
                        counts[1] - atWarm[1], (end - atWarm[2]) / 1e9);
    }
}
