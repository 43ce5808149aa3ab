package io.strata.bench;

import io.strata.client.ShareConsumer;
import io.strata.client.ShareRecord;
import io.strata.client.StrataClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
    /**
     * The figures of one run: over the whole of it, from the members' first polls (what a newcomer meets), and,
     * when the run had a warm-up, over what followed it ({@code measured}, else null).
     */
    public record Result(long accepted, double seconds, Histogram acks, long duplicates, boolean complete,
                         Measured measured) {
        public List<String> lines(String prefix) {
            List<String> lines = new ArrayList<>(List.of(
                    String.format(Locale.ROOT, "%s.accepted_per_s=%.0f", prefix, accepted / seconds),
                    String.format(Locale.ROOT, "%s.accepted=%d", prefix, accepted),
                    String.format(Locale.ROOT, "%s.seconds=%.2f", prefix, seconds)));
            lines.addAll(latencies(prefix + ".ack", acks));
            lines.add(String.format(Locale.ROOT, "%s.duplicates=%d", prefix, duplicates));
            lines.add(String.format(Locale.ROOT, "%s.complete=%s", prefix, complete));
            if (measured != null) {
                lines.add(String.format(Locale.ROOT, "%s.measured_accepted_per_s=%.0f", prefix,
                        measured.accepted() / measured.seconds()));
                lines.add(String.format(Locale.ROOT, "%s.measured_seconds=%.2f", prefix, measured.seconds()));
                lines.addAll(latencies(prefix + ".measured_ack", measured.acks()));
            }
            return lines;
        }

        private static List<String> latencies(String prefix, Histogram h) {
            return List.of(
                    String.format(Locale.ROOT, "%s_p50_ms=%.2f", prefix, h.getValueAtPercentile(50) / 1000.0),
                    String.format(Locale.ROOT, "%s_p99_ms=%.2f", prefix, h.getValueAtPercentile(99) / 1000.0),
                    String.format(Locale.ROOT, "%s_max_ms=%.2f", prefix, h.getMaxValue() / 1000.0),
                    String.format(Locale.ROOT, "%s_calls=%d", prefix, h.getTotalCount()));
        }
    }

    /** What followed the warm-up: records accepted after it, over how long, and the acknowledgement calls sent after it. */
    public record Measured(long accepted, double seconds, Histogram acks) {
    }

    /** The most records a member's poll takes from a fetch node. */
    private static final int MOST_PER_POLL = ShareConsumer.MAX_RECORDS_PER_FETCH;

    private final int members;
    private final Duration timeout;

    private final long ratePerSecond;
    private final Duration warmup;

    /**
     * @param ratePerSecond records taken by polls a second at most, by all members together; 0: as fast as they can
     * @param warmup        from the members' start, counted in the whole run's figures only (zero: none)
     */
    public ShareBench(int members, Duration timeout, long ratePerSecond, Duration warmup) {
        this.members = members;
        this.timeout = timeout;
        this.ratePerSecond = ratePerSecond;
        this.warmup = warmup;
    }

    /** Takes {@code expected} records of {@code topic} as group {@code group}, as fast as the members can. */
    public Result run(StrataClient client, String topic, String group, long expected, PrintWriter progress)
            throws InterruptedException {
        Recorder acks = new Recorder(TimeUnit.MINUTES.toMicros(2), 3);
        Histogram measuredAcks = new Histogram(TimeUnit.MINUTES.toMicros(2), 3); // sent after the warm-up
        AtomicLong accepted = new AtomicLong();
        AtomicLong duplicates = new AtomicLong();
        Seen seen = new Seen();
        AtomicLong reserved = new AtomicLong(); // records the members may take so far, at the rate
        AtomicLong doneAt = new AtomicLong(); // when the last record expected was accepted: the run's end
        long start = System.nanoTime();
        long until = start + timeout.toNanos();
        long warmEnd = start + warmup.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int m = 0; m < members; m++) {
            Thread t = new Thread(() -> {
                try (ShareConsumer member = client.consumer(topic).share(group)) {
                    while (accepted.get() < expected && System.nanoTime() < until) {
                        long before = reserved.getAndAdd(MOST_PER_POLL);
                        List<ShareRecord> records = List.of();
                        try {
                            pace(Math.min(before, expected), start, until);
                            records = member.poll(Duration.ofMillis(500));
                        } finally {
                            reserved.addAndGet(records.size() - MOST_PER_POLL); // what it did not take, back
                        }
                        for (ShareRecord r : records) {
                            if (!seen.add(r.partition(), r.offset())) {
                                duplicates.incrementAndGet();
                            }
                            member.accept(r);
                        }
                        if (!records.isEmpty()) {
                            long t0 = System.nanoTime();
                            member.acknowledge();
                            long took = Math.max(1, (System.nanoTime() - t0) / 1000);
                            acks.recordValue(took);
                            if (!warmup.isZero() && t0 - warmEnd >= 0) {
                                synchronized (measuredAcks) {
                                    measuredAcks.recordValue(took);
                                }
                            }
                            if (accepted.addAndGet(records.size()) >= expected) {
                                doneAt.compareAndSet(0, System.nanoTime());
                            }
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // stopped: what it took and did not answer goes back on close
                }
            }, "share-member-" + m);
            threads.add(t);
            t.start();
        }
        long lastReport = start;
        long lastCount = 0;
        long warmCount = -1; // accepted when the warm-up ended, and when that was seen
        long warmSeenAt = 0;
        Histogram all = new Histogram(TimeUnit.MINUTES.toMicros(2), 3);
        while (threads.stream().anyMatch(Thread::isAlive)) {
            Thread.sleep(200);
            long now = System.nanoTime();
            if (warmCount < 0 && !warmup.isZero() && now - warmEnd >= 0) {
                warmCount = accepted.get();
                warmSeenAt = now;
            }
            if (now - lastReport >= TimeUnit.SECONDS.toNanos(2)) {
                long count = accepted.get();
                Histogram interval = acks.getIntervalHistogram();
                all.add(interval);
                progress.printf(Locale.ROOT, "%6.0fs %10d accepted %10.0f records/s  ack p50 %6.1f ms  p99 %6.1f ms%n",
                        (now - start) / 1e9, count, (count - lastCount) / ((now - lastReport) / 1e9),
                        interval.getValueAtPercentile(50) / 1000.0, interval.getValueAtPercentile(99) / 1000.0);
                progress.flush();
                lastCount = count;
                lastReport = now;
            }
        }
        // Until the last record was accepted, not until every member has seen an empty poll after it.
        long end = doneAt.get() != 0 ? doneAt.get() : System.nanoTime();
        all.add(acks.getIntervalHistogram());
        Measured measured = null;
        if (warmCount >= 0 && end - warmSeenAt > 0) {
            synchronized (measuredAcks) {
                measured = new Measured(accepted.get() - warmCount, (end - warmSeenAt) / 1e9, measuredAcks.copy());
            }
        }
        return new Result(accepted.get(), (end - start) / 1e9, all, duplicates.get(), accepted.get() >= expected,
                measured);
    }

    /**
     * Waits until a poll may take its records, {@code before} records having been given out ahead of it at the rate.
     * Each poll first reserves as many as one can take, so that the members' first polls are spread over the time
     * the rate gives them rather than all sent at once: counting only the records accepted, 32 members took 16,000
     * records in the first instant, a burst no 50,000-a-second load makes, and it was measured as such. A poll
     * takes up to 500 records from each fetch node, so with several the reservation is short and what it took past
     * it delays the polls after it. The schedule is kept from the start: members held up catch up with it.
     */
    private void pace(long before, long start, long until) throws InterruptedException {
        if (ratePerSecond <= 0) {
            return;
        }
        long due = Math.min(until, start + before * 1_000_000_000L / ratePerSecond);
        long wait = due - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }

    /**
     * The offsets delivered, a bit each per partition from the first seen there (earlier ones, rare, in a set): a
     * set of boxed offsets made every young collection of this process copy tens of megabytes, and its pauses
     * were counted as acknowledgement latency.
     */
    private static final class Seen {
        private final Map<Integer, Partition> partitions = new ConcurrentHashMap<>();

        private static final class Partition {
            final long base;
            final java.util.BitSet bits = new java.util.BitSet();
            final Set<Long> below = new java.util.HashSet<>();

            Partition(long base) {
                this.base = base;
            }
        }

        /** Whether the offset is new. */
        boolean add(int partition, long offset) {
            Partition p = partitions.computeIfAbsent(partition, x -> new Partition(offset));
            synchronized (p) {
                long i = offset - p.base;
                if (i < 0 || i > Integer.MAX_VALUE) {
                    return p.below.add(offset);
                }
                if (p.bits.get((int) i)) {
                    return false;
                }
                p.bits.set((int) i);
                return true;
            }
        }
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
