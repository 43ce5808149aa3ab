package io.strata.console.history;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * What a node sampled over the last {@code retention}, as a bounded ring per series, in memory: charts of the last
 * hour without a time-series database to run. Bounded twice: each series keeps at most one point per sampling
 * interval over the retention, and at most {@code maxSeries} series are kept (a sample's series beyond them are
 * counted as dropped, never stored). A series sampled no more for the whole retention is forgotten.
 */
public final class History {
    /** A series: what was measured ("group.lag") and of what ({group: orders}). Labels are kept sorted. */
    public record Key(String name, SortedMap<String, String> labels) {
        public Key {
            labels = Collections.unmodifiableSortedMap(new TreeMap<>(labels));
        }

        public static Key of(String name, String... labelPairs) {
            TreeMap<String, String> labels = new TreeMap<>();
            for (int i = 0; i + 1 < labelPairs.length; i += 2) {
                labels.put(labelPairs[i], labelPairs[i + 1]);
            }
            return new Key(name, labels);
        }

        public String label(String name) {
            return labels.getOrDefault(name, "");
        }
    }

    /** A series' points, oldest first. */
    public record Series(Key key, long[] timesMs, double[] values) {
    }

    private final long retentionMs;
    private final int pointsPerSeries;
    private final int maxSeries;
    private final Map<Key, Ring> rings = new LinkedHashMap<>();
    private long dropped;
    private long sinceMs = -1;

    /** The most memory the points may take when every series is full (16 bytes a point). */
    public static final long MAX_BYTES = 256L << 20;

    public History(long intervalMs, long retentionMs, int maxSeries) {
        if (intervalMs <= 0 || retentionMs < intervalMs || maxSeries <= 0) {
            throw new IllegalArgumentException("history needs an interval > 0, a retention of at least one "
                    + "interval and room for a series");
        }
        // One more than the retention holds, so a full hour still has its first point after a late sample.
        long points = retentionMs / intervalMs + 1;
        if (points * maxSeries * 16 > MAX_BYTES) {
            throw new IllegalArgumentException("a history of " + maxSeries + " series of " + points + " points each "
                    + "would take " + (points * maxSeries * 16 >> 20) + " MiB, more than " + (MAX_BYTES >> 20)
                    + ": sample less often, keep less, or keep fewer series");
        }
        this.retentionMs = retentionMs;
        this.pointsPerSeries = (int) points;
        this.maxSeries = maxSeries;
    }

    /** One sampling round, read at {@code timeMs}: each series gets its point; series silent too long are forgotten. */
    public synchronized void record(long timeMs, Map<Key, Double> sample) {
        if (sinceMs < 0) {
            sinceMs = timeMs;
        }
        for (Map.Entry<Key, Double> e : sample.entrySet()) {
            Ring ring = rings.get(e.getKey());
            if (ring == null) {
                if (rings.size() >= maxSeries) {
                    dropped++;
                    continue;
                }
                ring = new Ring(pointsPerSeries);
                rings.put(e.getKey(), ring);
            }
            ring.add(timeMs, e.getValue());
        }
        long oldest = timeMs - retentionMs;
        rings.values().removeIf(r -> r.newest() < oldest);
    }

    /** The series {@code which} selects, with their points within the retention as of {@code nowMs}. */
    public synchronized List<Series> read(Predicate<Key> which, long nowMs) {
        List<Series> out = new ArrayList<>();
        long oldest = nowMs - retentionMs;
        for (Map.Entry<Key, Ring> e : rings.entrySet()) {
            if (which.test(e.getKey())) {
                out.add(e.getValue().since(e.getKey(), oldest));
            }
        }
        return out;
    }

    /** Series refused since the start because {@code maxSeries} were kept already. */
    public synchronized long dropped() {
        return dropped;
    }

    /** When the first round was recorded, or -1 before. */
    public synchronized long sinceMs() {
        return sinceMs;
    }

    public synchronized int seriesCount() {
        return rings.size();
    }

    /**
     * A ring of (time, value) of at most {@code capacity} points: the oldest is overwritten when it is full. It grows
     * to its capacity as points come, so a young series (or node) takes little.
     */
    private static final class Ring {
        private final int capacity;
        private long[] times;
        private double[] values;
        private int next;
        private int size;

        Ring(int capacity) {
            this.capacity = capacity;
            times = new long[Math.min(8, capacity)];
            values = new double[times.length];
        }

        void add(long timeMs, double value) {
            if (size == times.length && times.length < capacity) {
                // Not yet wrapped (a ring only wraps at capacity): the points are in order from 0.
                int grown = (int) Math.min(capacity, times.length * 2L);
                times = java.util.Arrays.copyOf(times, grown);
                values = java.util.Arrays.copyOf(values, grown);
                next = size;
            }
            times[next] = timeMs;
            values[next] = value;
            next = (next + 1) % times.length;
            size = Math.min(size + 1, times.length);
        }

        long newest() {
            return size == 0 ? Long.MIN_VALUE : times[(next - 1 + times.length) % times.length];
        }

        Series since(Key key, long oldestMs) {
            int first = (next - size + times.length) % times.length;
            int skip = 0;
            while (skip < size && times[(first + skip) % times.length] < oldestMs) {
                skip++;
            }
            int n = size - skip;
            long[] t = new long[n];
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                int at = (first + skip + i) % times.length;
                t[i] = times[at];
                v[i] = values[at];
            }
            return new Series(key, t, v);
        }
    }
}
