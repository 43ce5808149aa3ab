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
 * second and the time an acknowledgement call takes to be stored (ack latency) over the whole run, from the
 * members' first polls, and with a warm-up also over what follows it; counts records accepted twice (there must
 * be none). One thread per member; ends with {@code share.<figure>=<value>}.
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
        if (warmup.isNegative()) {
            throw new IllegalArgumentException("the warm-up is zero or more, not " + warmup);
        }
        this.members = members;
        this.timeout = timeout;
        this.ratePerSecond = ratePerSecond;
        this.warmup = warmup;
    }

    /**
     * Takes {@code expected} records of {@code topic} as group {@code group}, at the bench's rate (or as fast as
     * the members can), and reports every two seconds on {@code progress}.
     */
    public Result run(StrataClient client, String topic, String group, long expected, PrintWriter progress)
            throws InterruptedException {
        Recorder acks = new Recorder(TimeUnit.MINUTES.toMicros(2), 3);
        AtomicLong duplicates = new AtomicLong();
        Seen seen = new Seen();
        AtomicLong reserved = new AtomicLong(); // records the members may take so far, at the rate
        long start = System.nanoTime();
        long until = start + timeout.toNanos();
        long warmEnd = start + warmup.toNanos();
        Tally tally = new Tally(expected, warmEnd, !warmup.isZero());
        List<Thread> threads = new ArrayList<>();
        for (int m = 0; m < members; m++) {
            Thread t = new Thread(() -> {
                try (ShareConsumer member = client.consumer(topic).share(group)) {
                    while (tally.accepted() < expected && System.nanoTime() < until) {
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
                            long now = System.nanoTime();
                            long took = Math.max(1, (now - t0) / 1000);
                            if (tally.acknowledged(records.size(), t0, took, now)) {
                                acks.recordValue(took);
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
        boolean warmSaid = warmup.isZero();
        Histogram all = new Histogram(TimeUnit.MINUTES.toMicros(2), 3);
        while (threads.stream().anyMatch(Thread::isAlive)) {
            Thread.sleep(200);
            long now = System.nanoTime();
            if (!warmSaid && now - warmEnd >= 0) {
                progress.printf(Locale.ROOT, "%6.0fs warm-up over: measured from here too%n", (now - start) / 1e9);
                warmSaid = true;
            }
            if (now - lastReport >= TimeUnit.SECONDS.toNanos(2)) {
                long count = tally.accepted();
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
        all.add(acks.getIntervalHistogram());
        Tally.Totals totals = tally.totals(System.nanoTime());
        Measured measured = null;
        if (!warmup.isZero()) {
            measured = totals.measured();
            if (measured == null) {
                progress.printf("no acknowledgement was sent after the %s warm-up before the run ended: no measured "
                        + "figures (give more --records, or a longer --timeout)%n", warmup);
            } else if (measured.seconds() < 1 || measured.acks().getTotalCount() < 100) {
                progress.printf(Locale.ROOT, "the measured window is short (%.2f s, %d acknowledgements): its figures "
                        + "say little (give more --records)%n", measured.seconds(), measured.acks().getTotalCount());
            }
            progress.flush();
        }
        return new Result(totals.accepted(), (totals.end() - start) / 1e9, all, duplicates.get(), totals.complete(),
                measured);
    }

    /**
     * What the members accepted, counted under one lock so that the run's end and the measured window agree. The
     * run ends when the records expected are accepted (not when every member has also seen an empty poll after
     * that): its figures count the acknowledgements until then and what they accepted, nothing after. The measured
     * ones count, of those, the acknowledgements sent from the warm-up's end on and the records they accepted, over
     * the time from the warm-up's end to the run's.
     */
    static final class Tally {
        private final long expected;
        private final long warmEnd;
        private final boolean measuring;
        private final Histogram measuredAcks = new Histogram(TimeUnit.MINUTES.toMicros(2), 3);
        private long accepted;
        private long measuredAccepted;
        private boolean done;
        private long doneAt; // when the records expected were accepted: the run's end

        /** The run's figures once it ended (or stopped short {@code end}). */
        record Totals(long accepted, long measuredAccepted, Histogram measuredAcks, long end, boolean complete,
                      long warmEnd, boolean measuring) {
            /** What followed the warm-up, or null: no warm-up, or no acknowledgement sent after it in the run. */
            Measured measured() {
                if (!measuring || end - warmEnd <= 0 || measuredAcks.getTotalCount() == 0) {
                    return null;
                }
                return new Measured(measuredAccepted, (end - warmEnd) / 1e9, measuredAcks);
            }
        }

        Tally(long expected, long warmEnd, boolean measuring) {
            this.expected = expected;
            this.warmEnd = warmEnd;
            this.measuring = measuring;
        }

        synchronized long accepted() {
            return accepted;
        }

        /**
         * An acknowledgement sent at {@code sentAt}, answered {@code now} after {@code micros}, accepted {@code
         * records}. Answers whether it counts: false once the run had ended before it.
         */
        synchronized boolean acknowledged(int records, long sentAt, long micros, long now) {
            if (done) {
                return false;
            }
            accepted += records;
            if (measuring && sentAt - warmEnd >= 0) {
                measuredAccepted += records;
                measuredAcks.recordValue(micros);
            }
            if (accepted >= expected) {
                done = true;
                doneAt = now;
            }
            return true;
        }

        /** The figures; a run that did not reach its records ends {@code now}. */
        synchronized Totals totals(long now) {
            return new Totals(accepted, measuredAccepted, measuredAcks.copy(), done ? doneAt : now, done, warmEnd,
                    measuring);
        }
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
