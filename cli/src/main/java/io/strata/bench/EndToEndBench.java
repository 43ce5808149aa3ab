package io.strata.bench;

import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The end-to-end latency benchmark: one thread produces at a fixed rate, each value stamped with the time
 * the produce call started, while this thread consumes at the tail and records, for every value, the time
 * from that stamp to its delivery (both ends run in this process, so one clock serves). Records produced
 * during the warm-up count toward nothing. Ends with {@code e2e.<figure>=<value>} lines, including how many
 * measured records never arrived.
 */
public final class EndToEndBench {
    public record Settings(int recordSize, long ratePerSecond, Duration duration, Duration warmup) {
        public Settings {
            if (recordSize < 16 || ratePerSecond < 1 || duration.isNegative() || duration.isZero() || warmup.isNegative()) {
                throw new IllegalArgumentException("invalid benchmark settings (records of at least 16 bytes, a rate)");
            }
        }
    }

    /** {@code phases}: the records received in the first 5 s measured, the next 10, the rest. */
    public record Result(long sent, long received, long errors, double p50Ms, double p99Ms, double p999Ms,
                         double maxMs, Phases.Figures phases) {
        public List<String> lines(String prefix) {
            List<String> lines = new java.util.ArrayList<>(List.of(
                    String.format(Locale.ROOT, "%s.p50_ms=%.2f", prefix, p50Ms),
                    String.format(Locale.ROOT, "%s.p99_ms=%.2f", prefix, p99Ms),
                    String.format(Locale.ROOT, "%s.p999_ms=%.2f", prefix, p999Ms),
                    String.format(Locale.ROOT, "%s.max_ms=%.2f", prefix, maxMs),
                    String.format(Locale.ROOT, "%s.records=%d", prefix, received),
                    String.format(Locale.ROOT, "%s.missing=%d", prefix, Math.max(0, sent - received)),
                    String.format(Locale.ROOT, "%s.errors=%d", prefix, errors)));
            lines.addAll(phases.lines(prefix));
            return lines;
        }
    }

    /** Marks a measured record; warm-up records carry 0 in the flag byte. */
    private static final int MEASURED = 1;

    private final Settings settings;
    private final Recorder latencies = new Recorder(TimeUnit.MINUTES.toMicros(2), 3);
    private final Phases phases = new Phases();
    private final LongAdder sent = new LongAdder();
    private final LongAdder errors = new LongAdder();

    public EndToEndBench(Settings settings) {
        this.settings = settings;
    }

    public Result run(ProduceTarget target, ConsumeSource tail, PrintWriter progress) throws InterruptedException {
        Payloads.prepare();
        long start = System.nanoTime();
        long measureFrom = start + settings.warmup().toNanos();
        long end = measureFrom + settings.duration().toNanos();
        phases.start(measureFrom);
        Thread producer = new Thread(() -> produce(target, measureFrom, end), "strata-bench-e2e-producer");
        producer.setDaemon(true);
        producer.start();
        long[] received = new long[1];
        Histogram total = new Histogram(TimeUnit.MINUTES.toMicros(2), 3);
        long lastReport = System.nanoTime();
        long drainUntil = Long.MAX_VALUE;
        while (System.nanoTime() < drainUntil) {
            tail.poll(Duration.ofMillis(200), value -> {
                long now = System.nanoTime();
                ByteBuffer b = ByteBuffer.wrap(value);
                if (value.length >= 16 && b.get(8) == MEASURED) {
                    long micros = Math.max(0, (now - b.getLong(0)) / 1000);
                    latencies.recordValue(micros);
                    phases.record(now, micros);
                    received[0]++;
                }
            });
            long now = System.nanoTime();
            if (now - lastReport >= TimeUnit.SECONDS.toNanos(5)) {
                Histogram interval = latencies.getIntervalHistogram();
                total.add(interval);
                if (interval.getTotalCount() > 0) {
                    phases.interval(interval.getValueAtPercentile(99) / 1000.0);
                }
                progress.printf(Locale.ROOT, "%6.0fs %8d received  p50 %6.2f ms  p99 %7.2f ms%n", (now - start) / 1e9,
                        received[0], interval.getValueAtPercentile(50) / 1000.0,
                        interval.getValueAtPercentile(99) / 1000.0);
                progress.flush();
                lastReport = now;
            }
            if (drainUntil == Long.MAX_VALUE && !producer.isAlive()) {
                drainUntil = now + TimeUnit.SECONDS.toNanos(5); // what is still on its way
            }
            if (!producer.isAlive() && received[0] >= sent.sum()) {
                break;
            }
        }
        producer.join();
        Histogram last = latencies.getIntervalHistogram();
        total.add(last);
        if (last.getTotalCount() > 0) {
            phases.interval(last.getValueAtPercentile(99) / 1000.0); // the run's last, shorter interval
            progress.printf(Locale.ROOT, "%6.0fs %8d received  p50 %6.2f ms  p99 %7.2f ms%n",
                    (System.nanoTime() - start) / 1e9, received[0], last.getValueAtPercentile(50) / 1000.0,
                    last.getValueAtPercentile(99) / 1000.0);
        }
        return new Result(sent.sum(), received[0], errors.sum(), total.getValueAtPercentile(50) / 1000.0,
                total.getValueAtPercentile(99) / 1000.0, total.getValueAtPercentile(99.9) / 1000.0,
                total.getMaxValue() / 1000.0, phases.figures());
    }

    private void produce(ProduceTarget target, long measureFrom, long end) {
        long intervalNanos = (long) (1e9 / settings.ratePerSecond());
        long next = System.nanoTime();
        while (true) {
            long now = System.nanoTime();
            if (now >= end) {
                break;
            }
            if (now < next) {
                java.util.concurrent.locks.LockSupport.parkNanos(next - now);
                continue;
            }
            next += intervalNanos;
            byte[] value = Payloads.next(settings.recordSize());
            boolean measured = now >= measureFrom;
            long stamp = System.nanoTime();
            ByteBuffer.wrap(value).putLong(0, stamp).put(8, (byte) (measured ? MEASURED : 0));
            try {
                target.send(value).whenComplete((v, e) -> {
                    if (e != null) {
                        errors.increment();
                    }
                });
                if (measured) {
                    sent.increment();
                }
            } catch (RuntimeException e) {
                errors.increment();
            }
        }
        target.flush();
    }
}
