package io.strata.bench;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The produce benchmark: {@code producers} threads, each with its own producer, send {@code recordSize}-byte
 * records as fast as acknowledgements allow (or, with a rate, at that total rate) for the duration.
 * Latency is from the send call to the durable acknowledgement. Records sent during the warm-up count
 * toward nothing. Prints progress to {@code progress} every five seconds and ends with machine-readable
 * lines {@code produce.<figure>=<value>} on {@code out}.
 *
 * <p>Owns its producer threads ("strata-bench-producer-N"), which end with the run.
 */
public final class ProduceBench {
    /** {@code maxRecords}: stop once this many records are sent (0: no limit; the duration still caps it). */
    public record Settings(int recordSize, int producers, Duration duration, Duration warmup, long ratePerSecond,
                           long maxRecords) {
        public Settings {
            if (recordSize < 1 || producers < 1 || duration.isNegative() || duration.isZero() || warmup.isNegative()
                    || ratePerSecond < 0 || maxRecords < 0) {
                throw new IllegalArgumentException("invalid benchmark settings");
            }
        }

        public Settings(int recordSize, int producers, Duration duration, Duration warmup, long ratePerSecond) {
            this(recordSize, producers, duration, warmup, ratePerSecond, 0);
        }
    }

    /** The figures of one run; {@code phases}: its first 5 s measured, the next 10, the rest. */
    public record Result(long records, long bytes, long errors, double seconds, double p50Ms, double p99Ms,
                         double p999Ms, double maxMs, Phases.Figures phases) {
        public double recordsPerSecond() {
            return records / seconds;
        }

        public double megabytesPerSecond() {
            return bytes / seconds / 1e6;
        }

        public List<String> lines(String prefix) {
            List<String> lines = new ArrayList<>(List.of(
                    String.format(Locale.ROOT, "%s.records_per_s=%.0f", prefix, recordsPerSecond()),
                    String.format(Locale.ROOT, "%s.mb_s=%.2f", prefix, megabytesPerSecond()),
                    String.format(Locale.ROOT, "%s.p50_ms=%.2f", prefix, p50Ms),
                    String.format(Locale.ROOT, "%s.p99_ms=%.2f", prefix, p99Ms),
                    String.format(Locale.ROOT, "%s.p999_ms=%.2f", prefix, p999Ms),
                    String.format(Locale.ROOT, "%s.max_ms=%.2f", prefix, maxMs),
                    String.format(Locale.ROOT, "%s.records=%d", prefix, records),
                    String.format(Locale.ROOT, "%s.errors=%d", prefix, errors)));
            lines.addAll(phases.lines(prefix));
            return lines;
        }
    }

    private static final long MIN_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final Settings settings;
    private final Recorder latencies = new Recorder(TimeUnit.MINUTES.toMicros(2), 3);
    private final Phases phases = new Phases();
    private final LongAdder acked = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean measuring;

    public ProduceBench(Settings settings) {
        this.settings = settings;
    }

    public Result run(IntFunction<ProduceTarget> targets, PrintWriter progress) throws InterruptedException {
        List<ProduceTarget> opened = new ArrayList<>();
        for (int i = 0; i < settings.producers(); i++) {
            opened.add(targets.apply(i));
        }
        Payloads.prepare(); // CPU the first sends would otherwise wait for, on the clock
        long start = System.nanoTime();
        long measureFrom = start + settings.warmup().toNanos();
        long end = measureFrom + settings.duration().toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < opened.size(); i++) {
            ProduceTarget target = opened.get(i);
            Thread t = new Thread(() -> sendUntil(target, end), "strata-bench-producer-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        Histogram total = new Histogram(TimeUnit.MINUTES.toMicros(2), 3);
        Histogram interval = null;
        long lastReport = System.nanoTime();
        long lastAcked = 0;
        if (settings.warmup().isZero()) {
            // Measured from the first send: nothing to drop, and the phases count from the start.
            phases.start(start);
            measuring = true;
            lastReport = start;
        }
        while (System.nanoTime() < end && threads.stream().anyMatch(Thread::isAlive)) {
            Thread.sleep(200);
            long now = System.nanoTime();
            if (!measuring && now >= measureFrom) {
                latencies.getIntervalHistogram(); // drop the warm-up's latencies
                phases.start(now);
                acked.reset();
                errors.reset();
                lastAcked = 0;
                lastReport = now;
                measuring = true;
                progress.printf(Locale.ROOT, "%6.0fs warm-up over, measuring%n", (now - start) / 1e9);
                continue;
            }
            if (now - lastReport >= TimeUnit.SECONDS.toNanos(5)) {
                interval = latencies.getIntervalHistogram(interval);
                if (measuring) {
                    total.add(interval);
                    phases.interval(interval.getValueAtPercentile(99) / 1000.0);
                }
                long count = acked.sum();
                double secs = (now - lastReport) / 1e9;
                progress.printf(Locale.ROOT, "%6.0fs %10.0f records/s %8.2f MB/s  p50 %6.2f ms  p99 %7.2f ms  errors %d%n",
                        (now - start) / 1e9, (count - lastAcked) / secs,
                        (count - lastAcked) * (double) settings.recordSize() / secs / 1e6,
                        interval.getValueAtPercentile(50) / 1000.0, interval.getValueAtPercentile(99) / 1000.0,
                        errors.sum());
                progress.flush();
                lastAcked = count;
                lastReport = now;
            }
        }
        for (Thread t : threads) {
            t.join();
        }
        // Records still in flight count: a run of --records ends when the last is acknowledged.
        for (ProduceTarget target : opened) {
            target.flush();
        }
        // A run over (--records) before its warm-up ended is measured whole.
        double seconds = (System.nanoTime() - (measuring ? measureFrom : start)) / 1e9;
        long records = acked.sum();
        Histogram last = latencies.getIntervalHistogram();
        total.add(last);
        if (measuring && last.getTotalCount() > 0) {
            phases.interval(last.getValueAtPercentile(99) / 1000.0); // the run's last, shorter interval
            progress.printf(Locale.ROOT, "%6.0fs (the rest)  p50 %6.2f ms  p99 %7.2f ms  errors %d%n",
                    (System.nanoTime() - start) / 1e9, last.getValueAtPercentile(50) / 1000.0,
                    last.getValueAtPercentile(99) / 1000.0, errors.sum());
            progress.flush();
        }
        for (ProduceTarget target : opened) {
            target.close();
        }
        return new Result(records, records * settings.recordSize(), errors.sum(), seconds,
                total.getValueAtPercentile(50) / 1000.0, total.getValueAtPercentile(99) / 1000.0,
                total.getValueAtPercentile(99.9) / 1000.0, total.getMaxValue() / 1000.0,
                measuring ? phases.figures() : Phases.Figures.NONE);
    }

    /**
     * Sends until {@code end}; with a rate, paces this thread to its share of it, sleeping at least {@link
     * #MIN_PAUSE_NANOS} at a time and then sending every record due: parking per record (every 200 µs a thread
     * at 20,000 records/s) cost the benchmark a fifth of a core in context switches, which it took from the
     * nodes it measures on a small machine.
     */
    private void sendUntil(ProduceTarget target, long end) {
        double perThread = settings.ratePerSecond() / (double) settings.producers();
        long intervalNanos = perThread > 0 ? (long) (1e9 / perThread) : 0;
        long next = System.nanoTime();
        while (true) {
            long now = System.nanoTime();
            if (now >= end) {
                return;
            }
            if (intervalNanos > 0) {
                if (now < next) {
                    java.util.concurrent.locks.LockSupport.parkNanos(Math.max(next - now, MIN_PAUSE_NANOS));
                    continue;
                }
                next += intervalNanos;
            }
            // Counted only when a record is sent (a pass that paused sends nothing).
            if (settings.maxRecords() > 0 && sent.incrementAndGet() > settings.maxRecords()) {
                return;
            }
            long sent = System.nanoTime();
            try {
                target.send(Payloads.next(settings.recordSize())).whenComplete((v, e) -> {
                    if (e != null) {
                        errors.increment();
                    } else {
                        acked.increment();
                        long ackedAt = System.nanoTime();
                        long micros = Math.max(0, (ackedAt - sent) / 1000);
                        latencies.recordValue(micros);
                        phases.record(ackedAt, micros);
                    }
                });
            } catch (RuntimeException e) {
                errors.increment();
            }
        }
    }
}
