package io.strata.fetch.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LruByWeightTest {
    @Test
    void theLeastRecentlyUsedLeaveFirstOnceTheWeightIsOverTheBound() {
        LruByWeight<String, Integer> lru = new LruByWeight<>(30);
        lru.put("a", 1, 10);
        lru.put("b", 2, 10);
        lru.put("c", 3, 10);
        lru.get("a"); // used: b is now the eldest

        assertThat(lru.put("d", 4, 15)).containsExactly(Map.entry("b", 2), Map.entry("c", 3));
        assertThat(lru.contains("a")).isTrue();
        assertThat(lru.weight()).isEqualTo(25);
    }

    @Test
    void anEntryHeavierThanTheBoundStaysUntilTheNextPutButPushesTheRestOut() {
        LruByWeight<String, Integer> lru = new LruByWeight<>(10);
        lru.put("a", 1, 5);

        assertThat(lru.put("big", 2, 50)).containsExactly(Map.entry("a", 1));
        assertThat(lru.get("big")).isEqualTo(2);
        assertThat(lru.put("c", 3, 5)).containsExactly(Map.entry("big", 2));
    }

    @Test
    void aReplacedValueIsReportedAndItsWeightReplaced() {
        LruByWeight<String, Integer> lru = new LruByWeight<>(100);
        lru.put("a", 1, 10);

        assertThat(lru.put("a", 2, 30)).containsExactly(Map.entry("a", 1));
        assertThat(lru.weight()).isEqualTo(30);
        assertThat(lru.remove("a", 1)).as("no longer the value held").isFalse();
        assertThat(lru.remove("a", 2)).isTrue();
        assertThat(lru.weight()).isZero();
    }
}
