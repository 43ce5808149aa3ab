package io.strata.server.quota;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.security.Quota;
import io.strata.metadata.security.QuotaRates;
import io.strata.metadata.security.QuotaUsageStore;
import io.strata.security.Identity;
import io.strata.security.quota.QuotaMeter;
import io.strata.security.quota.QuotaShare;
import io.strata.security.quota.TokenBucket;
import io.strata.server.security.AccessControl;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.DoubleAdder;
import org.jboss.logging.Logger;

/**
 * The node's side of the cluster's quotas (docs/security.md, "Quotas"). Each principal with a quota (its own, or
 * the default) gets a {@link TokenBucket} per measure, at this node's share of the cluster-wide rate. Once a
 * second the node publishes what its clients used, reads what the other nodes' clients used, and sets each share
 * to what the others leave ({@link QuotaShare}): a principal on one node gets its whole quota there, one spread over
 * nodes gets it in total. Principals without a quota cost one map read per request.
 */
@Singleton
public class Quotas implements QuotaMeter {
    private static final Logger LOG = Logger.getLogger(Quotas.class);
    /** How often usage is published and shares are set. */
    static final long TICK_MS = 1000;
    /** A principal idle this long is forgotten (its burst starts full again). */
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** Principals metered at once, whatever callers come: past it new ones go unmetered until some are forgotten. */
    static final int MAX_METERED = 50_000;

    @Inject
    AccessControl access;
    @Inject
    MeterRegistry registry;

    private final ConcurrentHashMap<String, Meter> meters = new ConcurrentHashMap<>();
    private volatile Map<String, Quota> quotas = Map.of();
    private ScheduledExecutorService timer;
    private final ScheduledExecutorService releases = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "strata-quota-release");
        t.setDaemon(true);
        return t;
    });
    /** What the other nodes said their clients used, as last read: where a new meter's share starts. */
    private volatile Map<String, Map<String, QuotaRates>> others = Map.of();
    /** The most principals one node publishes (the busiest): its figures stay far below etcd's request limit. */
    static final int MAX_PUBLISHED = 2_000;
    private QuotaUsageStore usage;
    private String nodeId;
    private boolean published;
    /** Said once per spell of failures, not every second. */
    private boolean failing;
    private volatile boolean closed;
    private long lastTick = System.nanoTime();
    private Counter delayed;
    /** What every metered principal asked of this node since start (the node's metric)... */
    private final DoubleAdder meteredProduce = new DoubleAdder();
    private final DoubleAdder meteredFetch = new DoubleAdder();
    private final DoubleAdder meteredRequests = new DoubleAdder();
    /** ...and of that, what was given back unserved (the caller left while held). */
    private final DoubleAdder refundedProduce = new DoubleAdder();
    private final DoubleAdder refundedRequests = new DoubleAdder();

    /** Follows the cluster's quotas and shares them with the other nodes; after {@link AccessControl#start}. */
    public synchronized void start(MetadataStore metadata, String nodeId) {
        if (closed) {
            return; // the node stopped while starting
        }
        this.nodeId = nodeId;
        this.usage = metadata.quotaUsage();
        this.quotas = access.quotas();
        this.delayed = Counter.builder("strata.quota.delay").baseUnit("seconds")
                .description("How long clients were held back for their quotas, summed").register(registry);
        for (var m : Map.of("produce_bytes", meteredProduce, "fetch_bytes", meteredFetch, "requests", meteredRequests).entrySet()) {
            io.micrometer.core.instrument.FunctionCounter.builder("strata.quota.metered", m.getValue(),
                            DoubleAdder::sum).tag("measure", m.getKey())
                    .description("What principals with a quota asked of this node, all of them together").register(registry);
        }
        for (var m : Map.of("produce_bytes", refundedProduce, "requests", refundedRequests).entrySet()) {
            io.micrometer.core.instrument.FunctionCounter.builder("strata.quota.refunded", m.getValue(),
                            DoubleAdder::sum).tag("measure", m.getKey())
                    .description("Of strata.quota.metered: what was given back unserved (its caller left while held)")
                    .register(registry);
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-quotas");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    }

    @Override
    public long request(Identity who, long produceBytes) {
        Meter m = meter(who);
        if (m == null) {
            return 0;
        }
        meteredRequests.add(1);
        meteredProduce.add(produceBytes);
        return counted(m.request(produceBytes, System.nanoTime()));
    }

    @Override
    public long fetched(Identity who, long fetchBytes) {
        Meter m = meter(who);
        if (m == null) {
            return 0;
        }
        meteredFetch.add(fetchBytes);
        return counted(m.fetched(fetchBytes, System.nanoTime()));
    }

    /** How long the principal still owes for what it fetched (0: nothing): its next fetch waits that long. */
    public long fetchOwed(Identity who) {
        Meter m = meter(who);
        return m == null ? 0 : m.fetchOwed(System.nanoTime());
    }

    @Override
    public void refund(Identity who, long produceBytes) {
        Meter m = meter(who);
        if (m != null) {
            // Never served: this node's usage does not count it, and the metric says so apart (a counter never falls).
            refundedRequests.add(1);
            refundedProduce.add(produceBytes);
            m.refund(produceBytes, System.nanoTime());
        }
    }

    @Override
    public long owed(Identity who) {
        Meter m = meter(who);
        return m == null ? 0 : m.owed(System.nanoTime());
    }

    /** Whether the cluster has any quota: without, the doors skip measuring. */
    @Override
    public boolean active() {
        return !quotas.isEmpty();
    }

    /** For delays off an event loop: its own thread, never behind the once-a-second exchange with etcd. */
    java.util.concurrent.ScheduledExecutorService releases() {
        return releases;
    }

    private long counted(long delayNanos) {
        if (delayNanos > 0 && delayed != null) {
            delayed.increment(delayNanos / 1e9);
        }
        return delayNanos;
    }

    private Meter meter(Identity who) {
        Map<String, Quota> q = quotas;
        if (q.isEmpty()) {
            return null;
        }
        String principal = who.principal();
        Meter m = meters.get(principal);
        if (m != null) {
            return m;
        }
        Quota quota = q.getOrDefault(principal, q.get(Quota.DEFAULT));
        if (quota == null || meters.size() >= MAX_METERED) {
            return null;
        }
        return meters.computeIfAbsent(principal, p -> {
            // At this node's share from the start: a principal back from idle must not get the whole rate (and a
            // second of burst) on every node until the next exchange.
            Meter fresh = new Meter(quota, System.nanoTime());
            share(p, fresh, others, System.nanoTime());
            return fresh;
        });
    }

    /** How near its quota a principal's usage is, on its nearest measure (1: at it). */
    private double nearness(String principal, QuotaRates r) {
        Meter m = meters.get(principal);
        if (m == null) {
            return 0;
        }
        Quota q = m.quota;
        return Math.max(ratio(r.produceBytes(), q.produceBytesPerSecond()), Math.max(ratio(r.fetchBytes(),
                q.fetchBytesPerSecond()), ratio(r.requests(), q.requestsPerSecond())));
    }

    private static double ratio(double used, long limit) {
        return limit == 0 ? 0 : used / limit;
    }

    private static void share(String principal, Meter m, Map<String, Map<String, QuotaRates>> all, long now) {
        QuotaRates others = QuotaRates.ZERO;
        int[] busy = new int[3];
        for (Map<String, QuotaRates> node : all.values()) {
            QuotaRates r = node.get(principal);
            if (r != null) {
                others = others.plus(r);
                busy[0] += r.produceBytes() > 0 ? 1 : 0;
                busy[1] += r.fetchBytes() > 0 ? 1 : 0;
                busy[2] += r.requests() > 0 ? 1 : 0;
            }
        }
        m.share(others, busy, now);
    }

    /** Once a second: quotas as now configured, this node's usage out, the others' in, shares set. */
    private void tick() {
        try {
            long now = System.nanoTime();
            double seconds = Math.max(0.001, (now - lastTick) / 1e9);
            lastTick = now;
            Map<String, Quota> configured = access.quotas();
            quotas = configured;
            Map<String, QuotaRates> used = new HashMap<>();
            meters.entrySet().removeIf(e -> {
                Quota q = configured.getOrDefault(e.getKey(), configured.get(Quota.DEFAULT));
                Meter m = e.getValue();
                QuotaRates r = m.drain(seconds);
                if (q == null || !q.equals(m.quota) || now - m.lastUse > IDLE_NANOS) {
                    return true; // no quota now, another one (a new meter starts with it), or idle
                }
                if (!r.zero()) {
                    used.put(e.getKey(), r);
                }
                return false;
            });
            if (configured.isEmpty() && !published) {
                return; // no quotas, and nothing to withdraw
            }
            if (!used.isEmpty() || published) {
                Map<String, QuotaRates> busiest = used;
                if (used.size() > MAX_PUBLISHED) {
                    busiest = new HashMap<>();
                    // The nearest to their quotas first, whichever measure: those are the ones a share must hold.
                    for (var e : used.entrySet().stream().sorted((x, y) -> Double.compare(
                            nearness(y.getKey(), y.getValue()), nearness(x.getKey(), x.getValue())))
                            .limit(MAX_PUBLISHED).toList()) {
                        busiest.put(e.getKey(), e.getValue());
                    }
                }
                usage.publish(nodeId, busiest).get(5, TimeUnit.SECONDS);
                published = !used.isEmpty();
            }
            Map<String, Map<String, QuotaRates>> all = new HashMap<>(usage.read().get(5, TimeUnit.SECONDS));
            all.remove(nodeId);
            others = all;
            meters.forEach((principal, m) -> share(principal, m, all, now));
            failing = false;
        } catch (Exception e) {
            if (closed) {
                return; // the node is stopping: close() interrupted this tick, or its store closed under it
            }
            // Shares stay as they were: each node keeps limiting by what it last knew.
            if (!failing) {
                LOG.warnf(e, "cannot share quota usage with the other nodes (each keeps its last share until it can)");
            }
            failing = true;
        }
    }

    /**
     * Stops sharing usage; the node calls it before its metadata store closes, while its gRPC server still answers
     * calls: those held for their quotas are still released as their holds pass, until CDI destroys this.
     */
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (timer != null) {
            timer.shutdownNow();
        }
        if (usage != null) {
            usage.close();
        }
    }

    @PreDestroy
    synchronized void destroy() {
        close();
        releases.shutdownNow();
    }

    /** One principal's buckets (null where its quota sets no limit) and what it used since the last tick. */
    private static final class Meter {
        final Quota quota;
        final TokenBucket produce;
        final TokenBucket fetch;
        final TokenBucket requests;
        final DoubleAdder produced = new DoubleAdder();
        final DoubleAdder fetched = new DoubleAdder();
        final DoubleAdder requested = new DoubleAdder();
        volatile long lastUse;

        Meter(Quota quota, long now) {
            this.quota = quota;
            this.produce = bucket(quota.produceBytesPerSecond(), now);
            this.fetch = bucket(quota.fetchBytesPerSecond(), now);
            this.requests = bucket(quota.requestsPerSecond(), now);
            this.lastUse = now;
        }

        private static TokenBucket bucket(long rate, long now) {
            return rate == 0 ? null : new TokenBucket(rate, now);
        }

        long request(long produceBytes, long now) {
            lastUse = now;
            requested.add(1);
            long wait = requests == null ? 0 : requests.take(1, now);
            if (produceBytes > 0) {
                produced.add(produceBytes);
                if (produce != null) {
                    wait = Math.max(wait, produce.take(produceBytes, now));
                }
            }
            return wait;
        }

        long fetched(long bytes, long now) {
            lastUse = now;
            fetched.add(bytes);
            return fetch == null ? 0 : fetch.take(bytes, now);
        }

        void refund(long produceBytes, long now) {
            requested.add(-1);
            produced.add(-produceBytes);
            if (requests != null) {
                requests.refund(1, now);
            }
            if (produce != null && produceBytes > 0) {
                produce.refund(produceBytes, now);
            }
        }

        long owed(long now) {
            long owed = 0;
            for (TokenBucket b : new TokenBucket[] {produce, fetch, requests}) {
                owed = Math.max(owed, b == null ? 0 : b.owed(now));
            }
            return owed;
        }

        long fetchOwed(long now) {
            return fetch == null ? 0 : fetch.owed(now);
        }

        QuotaRates drain(double seconds) {
            // Refunds may outweigh a second's new use: never below nothing.
            return new QuotaRates(Math.max(0, produced.sumThenReset()) / seconds,
                    Math.max(0, fetched.sumThenReset()) / seconds, Math.max(0, requested.sumThenReset()) / seconds);
        }

        void share(QuotaRates others, int[] busy, long now) {
            set(produce, quota.produceBytesPerSecond(), others.produceBytes(), busy[0], now);
            set(fetch, quota.fetchBytesPerSecond(), others.fetchBytes(), busy[1], now);
            set(requests, quota.requestsPerSecond(), others.requests(), busy[2], now);
        }

        private static void set(TokenBucket b, long rate, double others, int busyOthers, long now) {
            if (b != null) {
                b.rate(QuotaShare.of(rate, others, busyOthers), now);
            }
        }
    }
}
