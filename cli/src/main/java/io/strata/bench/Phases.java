package io.strata.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A run's latencies split by when they were recorded, counted from the start of the measurement: its first
 * 5 seconds, the next 10, and the rest. A cold system shows in the first two (its JIT, its caches, the first
 * writes of a topic); a warm one has the three alike. Also the worst p99 of the run's 5-second intervals,
 * which a stall anywhere in the run raises. Thread-safe: any thread records.
 */
public final class Phases {
    private static final long FIRST_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(15);
    private static final String[] NAMES = {"first_5s", "next_10s", "rest"};

    private final Recorder[] recorders = new Recorder[NAMES.length];
    private final Histogram[] totals = new Histogram[NAMES.length];
    private volatile long startNanos = Long.MAX_VALUE;
    private double worstIntervalP99Ms;

    Phases() {
        for (int i = 0; i < NAMES.length; i++) {
            recorders[i] = new Recorder(TimeUnit.MINUTES.toMicros(2), 3);
            totals[i] = new Histogram(TimeUnit.MINUTES.toMicros(2), 3);
        }
    }

    /** The measurement starts: values recorded from {@code nanos} on count. */
    void start(long nanos) {
        startNanos = nanos;
    }

    /** A latency in microseconds, recorded at {@code nowNanos} ({@link System#nanoTime()}). */
    void record(long nowNanos, long micros) {
        long since = nowNanos - startNanos;
        if (since < 0) {
            return;
        }
        recorders[since < FIRST_NANOS ? 0 : since < SECOND_NANOS ? 1 : 2].recordValue(micros);
    }

    /** A 5-second interval of the measurement ended with this p99. */
    synchronized void interval(double p99Ms) {
        worstIntervalP99Ms = Math.max(worstIntervalP99Ms, p99Ms);
    }

    /** The figures so far. */
    synchronized Figures figures() {
        List<Figures.Phase> phases = new ArrayList<>();
        for (int i = 0; i < NAMES.length; i++) {
            totals[i].add(recorders[i].getIntervalHistogram());
            Histogram h = totals[i];
            phases.add(new Figures.Phase(NAMES[i], h.getTotalCount(), h.getValueAtPercentile(50) / 1000.0,
                    h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0));
        }
        return new Figures(phases, worstIntervalP99Ms);
    }

    /** Each phase's latencies, and the worst p99 of a 5-second interval. */
    public record Figures(List<Phase> phases, double worstIntervalP99Ms) {
        public static final Figures NONE = new Figures(List.of(), 0);

        public Figures {
            phases = List.copyOf(phases);
        }

        /** One phase: how many values, their p50, p99 and maximum in ms. */
        public record Phase(String name, long count, double p50Ms, double p99Ms, double maxMs) {
        }

        /** {@code <prefix>.<phase>_p50_ms}, {@code _p99_ms}, {@code _max_ms} per phase, the worst interval's p99. */
        public List<String> lines(String prefix) {
            List<String> lines = new ArrayList<>();
            for (Phase p : phases) {
                lines.add(String.format(Locale.ROOT, "%s.%s_p50_ms=%.2f", prefix, p.name(), p.p50Ms()));
                lines.add(String.format(Locale.ROOT, "%s.%s_p99_ms=%.2f", prefix, p.name(), p.p99Ms()));
                lines.add(String.format(Locale.ROOT, "%s.%s_max_ms=%.2f", prefix, p.name(), p.maxMs()));
            }
            if (!phases.isEmpty()) {
                lines.add(String.format(Locale.ROOT, "%s.worst_interval_p99_ms=%.2f", prefix, worstIntervalP99Ms));
            }
            return lines;
        }
    }
}
