package io.strata.bench;

import io.strata.client.Producer;
import io.strata.client.StrataClient;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pending-delayed-records benchmark (issue 30): producers send records delayed far ahead (so none comes due),
 * as fast as durable acknowledgements allow, while the node delivering them is watched through its metrics: how
 * many wait ({@code strata_delay_records_pending}) and how much heap the node holds (used, and what the old
 * generation keeps). The node's heap must stay flat however many wait. Ends with {@code delayed.<figure>=<value>}.
 */
public final class DelayedBench {
    /** One look at the node: when, records sent by then, records waiting, heap used and old-generation bytes. */
    public record Sample(double seconds, long sent, long pending, long heapUsed, long oldGen) {
    }

    /** The figures of one run. */
    public record Result(long sent, double sendSeconds, List<Sample> samples, boolean complete) {
        public List<String> lines(String prefix) {
            List<String> lines = new ArrayList<>();
            lines.add(String.format(Locale.ROOT, "%s.sent=%d", prefix, sent));
            lines.add(String.format(Locale.ROOT, "%s.sent_per_s=%.0f", prefix, sent / sendSeconds));
            Sample last = samples.isEmpty() ? new Sample(0, 0, 0, 0, 0) : samples.get(samples.size() - 1);
            lines.add(String.format(Locale.ROOT, "%s.pending=%d", prefix, last.pending()));
            // The old generation at a tenth of the records waiting, and at the end: flat means the same.
            Sample early = samples.stream().filter(s -> s.pending() >= last.pending() / 10).findFirst().orElse(last);
            lines.add(String.format(Locale.ROOT, "%s.old_gen_mb_at_10pct=%.0f", prefix, early.oldGen() / 1e6));
            lines.add(String.format(Locale.ROOT, "%s.old_gen_mb_at_end=%.0f", prefix, last.oldGen() / 1e6));
            lines.add(String.format(Locale.ROOT, "%s.old_gen_mb_max=%.0f", prefix,
                    samples.stream().mapToLong(Sample::oldGen).max().orElse(0) / 1e6));
            lines.add(String.format(Locale.ROOT, "%s.heap_used_mb_max=%.0f", prefix,
                    samples.stream().mapToLong(Sample::heapUsed).max().orElse(0) / 1e6));
            lines.add(String.format(Locale.ROOT, "%s.complete=%s", prefix, complete));
            return lines;
        }
    }

    private final int producers;
    private final int recordSize;
    private final Duration minDelay;
    private final Duration maxDelay;
    private final URI metrics;
    private final Duration timeout;
    private final long gcPid;

    /** {@code gcPid}: a local node's process to run a full GC in before each look ({@code jcmd PID GC.run}), or 0. */
    public DelayedBench(int producers, int recordSize, Duration minDelay, Duration maxDelay, URI metrics,
                        Duration timeout, long gcPid) {
        this.gcPid = gcPid;
        this.producers = producers;
        this.recordSize = recordSize;
        this.minDelay = minDelay;
        this.maxDelay = maxDelay;
        this.metrics = metrics;
        this.timeout = timeout;
    }

    /** Sends {@code records} delayed records to {@code topic}, then waits until the node says they all wait. */
    public Result run(StrataClient client, String topic, long records, PrintWriter progress) throws Exception {
        AtomicLong sent = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long start = System.nanoTime();
        long until = start + timeout.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < producers; i++) {
            Thread t = new Thread(() -> {
                try (Producer p = client.producer()) {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (sent.getAndIncrement() < records && System.nanoTime() < until) {
                        byte[] value = new byte[recordSize]; // random: as little compressible as real payloads
                        random.nextBytes(value);
                        long due = System.currentTimeMillis() + random.nextLong(minDelay.toMillis(),
                                maxDelay.toMillis() + 1);
                        p.sendDelayed(topic, null, null, value, List.of(), due).whenComplete((m, e) -> {
                            if (e != null) {
                                failed.incrementAndGet();
                            }
                        });
                    }
                    p.flush();
                }
            }, "delayed-producer-" + i);
            t.start();
            threads.add(t);
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        List<Sample> samples = new ArrayList<>();
        double sendSeconds = 0;
        boolean sending = true;
        while (System.nanoTime() < until) {
            Thread.sleep(2_000);
            if (sending && threads.stream().noneMatch(Thread::isAlive)) {
                sending = false;
                sendSeconds = (System.nanoTime() - start) / 1e9;
            }
            if (gcPid > 0) {
                new ProcessBuilder("jcmd", Long.toString(gcPid), "GC.run").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
            }
            Sample s = sample(http, (System.nanoTime() - start) / 1e9, Math.min(records, sent.get()));
            samples.add(s);
            progress.printf(Locale.ROOT, "%6.0f s: %,d sent, %,d waiting on the node, heap %,d MB used, old gen %,d MB%n",
                    s.seconds(), s.sent(), s.pending(), s.heapUsed() >> 20, s.oldGen() >> 20);
            progress.flush();
            if (!sending && s.pending() >= Math.min(records, sent.get()) - failed.get()) {
                break;
            }
        }
        if (sending) {
            sendSeconds = (System.nanoTime() - start) / 1e9;
        }
        Sample last = samples.isEmpty() ? null : samples.get(samples.size() - 1);
        long stored = Math.min(records, sent.get()) - failed.get();
        return new Result(stored, sendSeconds, samples, !sending && last != null && last.pending() >= stored
                && failed.get() == 0);
    }

    private Sample sample(HttpClient http, double seconds, long sent) throws Exception {
        String text = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return new Sample(seconds, sent, (long) sum(text, "strata_delay_records_pending", null),
                (long) sum(text, "jvm_memory_used_bytes", "area=\"heap\""),
                (long) sum(text, "jvm_memory_used_bytes", "Old Gen"));
    }

    /** The sum of a metric's series (those whose labels contain {@code labelPart}, when given). */
    static double sum(String metrics, String name, String labelPart) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(metrics);
        double total = 0;
        while (m.find()) {
            if (labelPart == null || (m.group(1) != null && m.group(1).contains(labelPart))) {
                total += Double.parseDouble(m.group(2));
            }
        }
        return total;
    }
}
