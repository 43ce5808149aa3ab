package io.strata.bench;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The catch-up consume benchmark: reads a source from where it starts to the end it had when opened, as
 * fast as it can, printing progress every five seconds and ending with machine-readable lines
 * {@code consume.<figure>=<value>}. Runs on the calling thread.
 */
public final class ConsumeBench {
    /** The figures of one run. */
    public record Result(long records, long bytes, double seconds, boolean complete) {
        public List<String> lines(String prefix) {
            return List.of(
                    String.format(Locale.ROOT, "%s.records_per_s=%.0f", prefix, records / seconds),
                    String.format(Locale.ROOT, "%s.mb_s=%.2f", prefix, bytes / seconds / 1e6),
                    String.format(Locale.ROOT, "%s.records=%d", prefix, records),
                    String.format(Locale.ROOT, "%s.bytes=%d", prefix, bytes),
                    String.format(Locale.ROOT, "%s.seconds=%.2f", prefix, seconds),
                    String.format(Locale.ROOT, "%s.complete=%s", prefix, complete));
        }
    }

    private final Duration timeout;

    /** {@code timeout}: how long the run may take before it stops short (reported as complete=false). */
    public ConsumeBench(Duration timeout) {
        this.timeout = timeout;
    }

    public Result run(ConsumeSource source, PrintWriter progress) {
        long[] counts = new long[2]; // records, bytes
        long start = System.nanoTime();
        long until = start + timeout.toNanos();
        long lastReport = start;
        long lastBytes = 0;
        while (!source.caughtUp() && System.nanoTime() < until) {
            source.poll(Duration.ofMillis(500), value -> {
                counts[0]++;
                counts[1] += value.length;
            });
            long now = System.nanoTime();
            if (now - lastReport >= TimeUnit.SECONDS.toNanos(5)) {
                double secs = (now - lastReport) / 1e9;
                progress.printf(Locale.ROOT, "%6.0fs %10d records read %8.2f MB/s%n", (now - start) / 1e9, counts[0],
                        (counts[1] - lastBytes) / secs / 1e6);
                progress.flush();
                lastBytes = counts[1];
                lastReport = now;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(counts[0], counts[1], seconds, source.caughtUp());
    }
}
