package io.strata.bench;

import io.strata.client.ShareConsumer;
import io.strata.client.ShareRecord;
import io.strata.client.StrataClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The share-group benchmark (issue 30): members of one share group take a topic's backlog, each record
 * accepted on its own, its acknowledgement sent with the member's next batch. Measures accepted records a
 * second over the whole run and the time an acknowledgement call takes to be stored (ack latency); counts
 * records accepted twice (there must be none). One thread per member; ends with {@code share.<figure>=<value>}.
 */
public final class ShareBench {
    /** The figures of one run. */
    public record Result(long accepted, double seconds, Histogram acks, long duplicates, boolean complete) {
        public List<String> lines(String prefix) {
            return List.of(
                    String.format(Locale.ROOT, "%s.accepted_per_s=%.0f", prefix, accepted / seconds),
                    String.format(Locale.ROOT, "%s.accepted=%d", prefix, accepted),
                    String.format(Locale.ROOT, "%s.seconds=%.2f", prefix, seconds),
                    String.format(Locale.ROOT, "%s.ack_p50_ms=%.2f", prefix, acks.getValueAtPercentile(50) / 1000.0),
                    String.format(Locale.ROOT, "%s.ack_p99_ms=%.2f", prefix, acks.getValueAtPercentile(99) / 1000.0),
                    String.format(Locale.ROOT, "%s.ack_max_ms=%.2f", prefix, acks.getMaxValue() / 1000.0),
                    String.format(Locale.ROOT, "%s.ack_calls=%d", prefix, acks.getTotalCount()),
                    String.format(Locale.ROOT, "%s.duplicates=%d", prefix, duplicates),
                    String.format(Locale.ROOT, "%s.complete=%s", prefix, complete));
        }
    }

    private final int members;
    private final Duration timeout;

    public ShareBench(int members, Duration timeout) {
        this.members = members;
        this.timeout = timeout;
    }

    /** Takes {@code expected} records of {@code topic} as group {@code group}, as fast as the members can. */
    public Result run(StrataClient client, String topic, String group, long expected, PrintWriter progress)
            throws InterruptedException {
        Recorder acks = new Recorder(TimeUnit.MINUTES.toMicros(2), 3);
        AtomicLong accepted = new AtomicLong();
        AtomicLong duplicates = new AtomicLong();
        Set<Long> seen = ConcurrentHashMap.newKeySet();
        long start = System.nanoTime();
        long until = start + timeout.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int m = 0; m < members; m++) {
            Thread t = new Thread(() -> {
                try (ShareConsumer member = client.consumer(topic).share(group)) {
                    while (accepted.get() < expected && System.nanoTime() < until) {
                        List<ShareRecord> records = member.poll(Duration.ofMillis(500));
                        for (ShareRecord r : records) {
                            if (!seen.add(((long) r.partition() << 40) | r.offset())) {
                                duplicates.incrementAndGet();
                            }
                            member.accept(r);
                        }
                        if (!records.isEmpty()) {
                            long t0 = System.nanoTime();
                            member.acknowledge();
                            acks.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                            accepted.addAndGet(records.size());
                        }
                    }
                }
            }, "share-member-" + m);
            threads.add(t);
            t.start();
        }
        long lastReport = start;
        long lastCount = 0;
        while (threads.stream().anyMatch(Thread::isAlive)) {
            Thread.sleep(200);
            long now = System.nanoTime();
            if (now - lastReport >= TimeUnit.SECONDS.toNanos(5)) {
                long count = accepted.get();
                progress.printf(Locale.ROOT, "%6.0fs %10d accepted %10.0f records/s%n", (now - start) / 1e9, count,
                        (count - lastCount) / ((now - lastReport) / 1e9));
                progress.flush();
                lastCount = count;
                lastReport = now;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(accepted.get(), seconds, acks.getIntervalHistogram(), duplicates.get(),
                accepted.get() >= expected);
    }
}
