package io.strata.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.strata.fetch.grpc.ReadStats;
import io.strata.metadata.MetadataStore;
import io.strata.storage.object.CountingObjectStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * The node's view of what it depends on, as metrics for the dashboards and alerts in k8s/components/monitoring:
 * object store requests (counts, latency, failures, bytes), the metadata store's failures and size against its quota, what
 * reads served and how late the tail arrived, and whether the node is ready.
 */
public final class NodeMetrics {
    private static final List<String> OBJECT_OPS = List.of("put", "get", "list", "delete");

    private NodeMetrics() {
    }

    /** Whether the node serves (0 while it waits for etcd or the bucket, or drains). */
    public static void ready(MeterRegistry meters, BooleanSupplier ready) {
        io.micrometer.core.instrument.Gauge.builder("strata.node.ready", () -> ready.getAsBoolean() ? 1 : 0)
                .description("1 while the node serves, 0 while it starts (waiting for etcd or the bucket) or stops")
                .register(meters);
    }

    /** Object store requests by operation (their count, duration and failures), and the bytes put and got. */
    public static void objects(MeterRegistry meters, CountingObjectStore store) {
        for (var op : Map.<String, java.util.function.ToDoubleFunction<CountingObjectStore>>of(
                "put", CountingObjectStore::puts, "get", CountingObjectStore::gets, "list", CountingObjectStore::lists,
                "delete", CountingObjectStore::deletes).entrySet()) {
            io.micrometer.core.instrument.FunctionCounter.builder("strata.objects.requests", store, op.getValue())
                    .tag("op", op.getKey()).description("Object store requests (a DELETE counts each object)")
                    .register(meters);
        }
        RoleMetrics.counter(meters, "strata.objects.put.bytes", store, CountingObjectStore::putBytes);
        RoleMetrics.counter(meters, "strata.objects.get.bytes", store, CountingObjectStore::getBytes);
        Map<String, Timer> latency = new HashMap<>();
        Map<String, Counter> errors = new HashMap<>();
        for (String op : OBJECT_OPS) {
            latency.put(op, Timer.builder("strata.objects.latency").tag("op", op)
                    .description("Object store requests, from sending to the answer (failures included)")
                    .publishPercentiles(0.5, 0.99).register(meters));
            errors.put(op, Counter.builder("strata.objects.errors").tag("op", op)
                    .description("Object store requests that failed (a missing object is an answer, not a failure)")
                    .register(meters));
        }
        store.timings((op, nanos, failed) -> {
            Timer t = latency.get(op);
            if (t != null) {
                t.record(nanos, TimeUnit.NANOSECONDS);
                if (failed) {
                    errors.get(op).increment();
                }
            }
        });
    }

    /**
     * The metadata store's failed requests, and its size read every {@code every} on {@code timer} (never on a
     * scrape: a status call to etcd must not hold Prometheus up) beside the quota it is held against.
     */
    public static void metadata(MeterRegistry meters, MetadataStore store, long quotaBytes,
                                ScheduledExecutorService timer, Duration every) {
        RoleMetrics.counter(meters, "strata.metadata.request.failures", store, m -> m.stats().requestFailures());
        AtomicLong size = new AtomicLong(-1);
        io.micrometer.core.instrument.Gauge.builder("strata.metadata.db.bytes", size, AtomicLong::get)
                .description("Bytes of the metadata store (etcd's backend database; the embedded store's files); -1 "
                        + "until first read").register(meters);
        io.micrometer.core.instrument.Gauge.builder("strata.metadata.db.quota.bytes", () -> quotaBytes)
                .description("The quota the metadata store is held against (strata.metadata.quota-bytes: etcd's "
                        + "--quota-backend-bytes)").register(meters);
        Runnable read = () -> store.sizeBytes().whenComplete((bytes, failure) -> {
            if (failure == null) {
                size.set(bytes);
            }
        });
        timer.scheduleWithFixedDelay(read, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** How long ago a compaction pass ended, read every {@code every}: "passes stopped" is an alert. */
    private static final long CURRENT_PASSES_MS = 10 * 60_000;

    /**
     * Compaction as every node sees it from the passes workers write down (a CronJob's pods live for one pass, too
     * short to be scraped): seconds since the last pass ended (-1 before the first), and the backlog and how late
     * retention is by the current passes.
     */
    public static void compaction(MeterRegistry meters, MetadataStore store, ScheduledExecutorService timer,
                                  Duration every) {
        AtomicLong lastAge = new AtomicLong(-1);
        AtomicLong backlog = new AtomicLong();
        AtomicLong behind = new AtomicLong();
        io.micrometer.core.instrument.Gauge.builder("strata.compaction.last.pass.age.seconds", lastAge, AtomicLong::get)
                .description("Seconds since a compaction pass last ended anywhere in the cluster (-1: none yet)")
                .register(meters);
        io.micrometer.core.instrument.Gauge.builder("strata.compaction.backlog.age.ms", backlog, AtomicLong::get)
                .description("The oldest block not merged yet, by the current compaction passes").register(meters);
        io.micrometer.core.instrument.Gauge.builder("strata.compaction.retention.behind.ms", behind, AtomicLong::get)
                .description("How late retention is, by the current compaction passes").register(meters);
        Runnable read = () -> store.compaction().readPasses().whenComplete((passes, failure) -> {
            if (failure != null || passes.isEmpty()) {
                return;
            }
            long now = System.currentTimeMillis();
            List<io.strata.metadata.CompactionPass> current = io.strata.metadata.CompactionPass.current(passes,
                    CURRENT_PASSES_MS);
            lastAge.set(Math.max(0, now - passes.get(0).finishedAtMs()) / 1000);
            backlog.set(current.stream().mapToLong(io.strata.metadata.CompactionPass::oldestUnmergedAgeMs).max()
                    .orElse(0));
            behind.set(current.stream().mapToLong(io.strata.metadata.CompactionPass::retentionLagMs).max().orElse(0));
        });
        timer.scheduleWithFixedDelay(read, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Records and stored bytes reads served, and the tail's end-to-end latency. */
    public static void reads(MeterRegistry meters, ReadStats stats) {
        RoleMetrics.counter(meters, "strata.fetch.records", stats, ReadStats::records);
        RoleMetrics.counter(meters, "strata.fetch.bytes", stats, ReadStats::bytes);
        Timer endToEnd = Timer.builder("strata.fetch.end.to.end")
                .description("For reads at the end of a partition: from the newest record's timestamp to its read")
                .publishPercentiles(0.5, 0.99).register(meters);
        stats.endToEnd(ms -> endToEnd.record(ms, TimeUnit.MILLISECONDS));
    }
}
