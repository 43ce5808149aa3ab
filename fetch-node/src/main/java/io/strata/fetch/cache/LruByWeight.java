package io.strata.fetch.cache;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Entries bounded by their total weight, the least recently used leaving first: the index of both cache
 * tiers. Plain LRU on purpose: the read path is dominated by sequential readers (catch-up reads,
 * read-ahead, tail hand-offs), for which the chunk just loaded is the one wanted next; a frequency-based
 * admission policy (Caffeine's, which the disk tier used at first) turns a catch-up read's chunks away in
 * favour of chunks read once before. Thread-safe; callers act on what {@link #put} removed outside its lock.
 */
final class LruByWeight<K, V> {
    private record Weighed<V>(V value, long weight) {
    }

    private final long maxWeight;
    private final LinkedHashMap<K, Weighed<V>> entries = new LinkedHashMap<>(1024, 0.75f, true);
    private long weight;

    LruByWeight(long maxWeight) {
        this.maxWeight = maxWeight;
    }

    /** The value, marked as just used; null when absent. */
    synchronized V get(K key) {
        Weighed<V> e = entries.get(key);
        return e == null ? null : e.value();
    }

    /** Whether the key is held; does not count as a use. */
    synchronized boolean contains(K key) {
        return entries.containsKey(key);
    }

    /**
     * Puts the value, then removes the least recently used entries while the total is over the bound (never
     * the one just put). Answers what left: the value it replaced, if any, and the evicted entries.
     */
    List<Map.Entry<K, V>> put(K key, V value, long valueWeight) {
        List<Map.Entry<K, V>> removed = new ArrayList<>();
        synchronized (this) {
            Weighed<V> replaced = entries.put(key, new Weighed<>(value, valueWeight));
            weight += valueWeight;
            if (replaced != null) {
                weight -= replaced.weight();
                removed.add(Map.entry(key, replaced.value()));
            }
            Iterator<Map.Entry<K, Weighed<V>>> eldest = entries.entrySet().iterator();
            while (weight > maxWeight && eldest.hasNext()) {
                Map.Entry<K, Weighed<V>> e = eldest.next();
                if (e.getKey().equals(key)) {
                    continue;
                }
                eldest.remove();
                weight -= e.getValue().weight();
                removed.add(Map.entry(e.getKey(), e.getValue().value()));
            }
        }
        return removed;
    }

    /** Removes the entry if it still holds {@code value}. */
    synchronized boolean remove(K key, V value) {
        Weighed<V> e = entries.get(key);
        if (e == null || !e.value().equals(value)) {
            return false;
        }
        entries.remove(key);
        weight -= e.weight();
        return true;
    }

    /** Empties it; answers the values it held. */
    synchronized List<V> clear() {
        List<V> values = entries.values().stream().map(Weighed::value).toList();
        entries.clear();
        weight = 0;
        return values;
    }

    synchronized long weight() {
        return weight;
    }
}
