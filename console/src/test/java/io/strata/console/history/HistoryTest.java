package io.strata.console.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HistoryTest {
    private static final History.Key LAG = History.Key.of("group.lag", "group", "billing");
    private static final History.Key RECORDS = History.Key.of("topic.records", "topic", "orders");

    @Test
    void aSeriesKeepsOnePointPerIntervalOverTheRetentionAndNoMore() {
        History h = new History(10, 100, 10);
        for (int i = 0; i <= 50; i++) {
            h.record(i * 10L, Map.of(LAG, (double) i));
        }
        History.Series s = h.read(k -> true, 500).get(0);
        // 100 ms of retention at one point per 10 ms: the newest eleven, oldest first.
        assertThat(s.timesMs()).containsExactly(400, 410, 420, 430, 440, 450, 460, 470, 480, 490, 500);
        assertThat(s.values()).startsWith(40.0).endsWith(50.0);
    }

    @Test
    void pointsOlderThanTheRetentionAreNotAnsweredEvenBeforeTheyAreOverwritten() {
        History h = new History(10, 100, 10);
        h.record(0, Map.of(LAG, 1.0));
        h.record(10, Map.of(LAG, 2.0, RECORDS, 5.0));
        assertThat(h.read(k -> k.equals(LAG), 105).get(0).values()).containsExactly(2.0);
    }

    @Test
    void aSeriesSampledNoMoreForTheWholeRetentionIsForgotten() {
        History h = new History(10, 100, 10);
        h.record(0, Map.of(LAG, 1.0, RECORDS, 1.0));
        h.record(50, Map.of(RECORDS, 2.0));
        assertThat(h.seriesCount()).isEqualTo(2);
        h.record(101, Map.of(RECORDS, 3.0));
        assertThat(h.seriesCount()).isEqualTo(1);
        assertThat(h.read(k -> true, 101)).extracting(History.Series::key).containsExactly(RECORDS);
    }

    @Test
    void seriesBeyondTheBoundAreCountedAsDroppedNeverStored() {
        History h = new History(10, 100, 2);
        h.record(0, new java.util.LinkedHashMap<>(Map.of(LAG, 1.0)));
        h.record(10, Map.of(RECORDS, 1.0));
        h.record(20, Map.of(History.Key.of("group.lag", "group", "other"), 1.0, LAG, 2.0));
        assertThat(h.seriesCount()).isEqualTo(2);
        assertThat(h.dropped()).isEqualTo(1);
        assertThat(h.read(k -> k.equals(LAG), 20).get(0).values()).containsExactly(1.0, 2.0);
    }

    @Test
    void keysAreTheirNameAndLabelsWhateverOrderTheLabelsComeIn() {
        History.Key a = History.Key.of("group.partition.lag", "group", "g", "topic", "t", "partition", "0");
        History.Key b = new History.Key("group.partition.lag", new java.util.TreeMap<>(Map.of("partition", "0",
                "topic", "t", "group", "g")));
        assertThat(a).isEqualTo(b);
        assertThat(List.copyOf(a.labels().keySet())).containsExactly("group", "partition", "topic");
        assertThat(a.label("topic")).isEqualTo("t");
        assertThat(a.label("missing")).isEmpty();
    }

    @Test
    void aLongSeriesKeepsItsOrderAsItsRingGrowsAndWraps() {
        History h = new History(1, 99, 1); // 100 points
        for (int i = 0; i < 250; i++) {
            h.record(i, Map.of(LAG, (double) i));
            History.Series s = h.read(k -> true, i).get(0);
            assertThat(s.timesMs()).hasSize(Math.min(i + 1, 100));
            assertThat(s.timesMs()[0]).isEqualTo(Math.max(0, i - 99));
            assertThat(s.values()[s.values().length - 1]).isEqualTo(i);
        }
    }

    @Test
    void aHistoryTooLargeForItsMemoryBoundIsRefused() {
        assertThatThrownBy(() -> new History(1_000, 86_400_000, 2_000)).hasMessageContaining("MiB");
    }

    @Test
    void aHistoryThatCouldHoldNothingIsRefused() {
        assertThatThrownBy(() -> new History(0, 100, 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new History(10, 5, 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new History(10, 100, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
