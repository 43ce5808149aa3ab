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

    /** How late records came back after their lock ran out. */
    public record Redelivery(int abandoned, int redelivered, Histogram lateness) {
        public List<String> lines(String prefix) {
            return List.of(
                    String.format(Locale.ROOT, "%s.redelivery_abandoned=%d", prefix, abandoned),
                    String.format(Locale.ROOT, "%s.redelivered=%d", prefix, redelivered),
                    String.format(Locale.ROOT, "%s.redelivery_after_lock_p50_ms=%.1f", prefix,
                            lateness.getValueAtPercentile(50) / 1000.0),
                    String.format(Locale.ROOT, "%s.redelivery_after_lock_max_ms=%.1f", prefix,
                            lateness.getMaxValue() / 1000.0));
        }
    }

    /**
     * A member of {@code group} (its lock set to {@code lock}, no back-off) takes a batch and goes silent, as one that died
     * would; another member waits for those records. Measures, per record, how long after the end of its lock
     * (counted from when the silent member's fetch was sent: the latest the lock can have ended) it reached the
     * waiting member.
     */
    public Redelivery redelivery(StrataClient client, String topic, String group, Duration lock, int batch)
            throws InterruptedException {
        // No back-off: what is measured is how soon the node notices the lock ran out, not the policy's wait.
        client.groups().alter(group, new io.strata.client.Groups.SettingsChange(null, null, lock, Duration.ZERO, 1.0,
                Duration.ZERO, false));
        Thread.sleep(1_100); // settings are in force on every node within a second
        ShareConsumer silent = client.consumer(topic).share(group);
        Set<Long> held = new java.util.HashSet<>();
        long sentNanos;
        do {
            sentNanos = System.nanoTime();
            for (ShareRecord r : silent.poll(Duration.ofSeconds(5))) {
                if (held.size() < batch) {
                    held.add(((long) r.partition() << 40) | r.offset());
                }
            }
        } while (held.isEmpty());
        long lockEnds = sentNanos + lock.toNanos(); // the silent member is dropped unclosed: nothing is given back
        Histogram lateness = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
        int back = 0;
        try (ShareConsumer waiting = client.consumer(topic).share(group)) {
            long until = lockEnds + TimeUnit.SECONDS.toNanos(30);
            while (back < held.size() && System.nanoTime() < until) {
                for (ShareRecord r : waiting.poll(Duration.ofMillis(500))) {
                    long now = System.nanoTime();
                    if (held.contains(((long) r.partition() << 40) | r.offset()) && r.deliveryCount() >= 2) {
                        back++;
                        lateness.recordValue(Math.max(0, (now - lockEnds) / 1000));
                    }
                    waiting.accept(r);
                }
            }
            waiting.acknowledge();
        }
        return new Redelivery(held.size(), back, lateness);
    }
}
