package io.strata.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PhasesTest {
    private static final long S = TimeUnit.SECONDS.toNanos(1);

    @Test
    void valuesCountInThePhaseOfWhenTheyWereRecordedAndNothingBeforeTheStart() {
        Phases phases = new Phases();
        long start = 1_000 * S;
        phases.start(start);
        phases.record(start - 1, 9_000_000); // the warm-up: not counted
        phases.record(start, 1_000);
        phases.record(start + 5 * S - 1, 2_000);
        phases.record(start + 5 * S, 30_000);
        phases.record(start + 15 * S - 1, 40_000);
        phases.record(start + 15 * S, 500);
        phases.interval(3.0);
        phases.interval(41.0);
        phases.interval(2.0);

        Phases.Figures figures = phases.figures();

        assertThat(figures.phases()).extracting(Phases.Figures.Phase::name, Phases.Figures.Phase::count)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("first_5s", 2L),
                        org.assertj.core.groups.Tuple.tuple("next_10s", 2L),
                        org.assertj.core.groups.Tuple.tuple("rest", 1L));
        assertThat(figures.phases().get(0).maxMs()).isBetween(1.99, 2.01);
        assertThat(figures.phases().get(1).p50Ms()).isBetween(29.9, 30.1);
        assertThat(figures.worstIntervalP99Ms()).isEqualTo(41.0);
        assertThat(figures.lines("produce")).contains("produce.worst_interval_p99_ms=41.00")
                .anyMatch(l -> l.startsWith("produce.next_10s_max_ms=40.0"));
    }
}
