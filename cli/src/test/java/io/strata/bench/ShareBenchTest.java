package io.strata.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class ShareBenchTest {
    private static final long S = TimeUnit.SECONDS.toNanos(1);

    private static Histogram acks(long... micros) {
        Histogram h = new Histogram(TimeUnit.MINUTES.toMicros(2), 3);
        for (long m : micros) {
            h.recordValue(m);
        }
        return h;
    }

    private static List<String> names(List<String> lines) {
        return lines.stream().map(l -> l.substring(0, l.indexOf('='))).toList();
    }

    @Test
    void theWholeRunsFiguresKeepTheirNamesAndOrderAndTheMeasuredOnesFollowOnlyAfterAWarmUp() {
        ShareBench.Result cold = new ShareBench.Result(1000, 2.0, acks(1000, 2000), 0, true, null);
        ShareBench.Result warmed = new ShareBench.Result(1000, 2.0, acks(1000, 2000), 0, true,
                new ShareBench.Measured(500, 0.5, acks(3000)));

        List<String> whole = List.of("share.accepted_per_s", "share.accepted", "share.seconds", "share.ack_p50_ms",
                "share.ack_p99_ms", "share.ack_max_ms", "share.ack_calls", "share.duplicates", "share.complete");
        assertThat(names(cold.lines("share"))).isEqualTo(whole);
        List<String> lines = warmed.lines("share");
        assertThat(names(lines).subList(0, whole.size())).isEqualTo(whole);
        assertThat(lines.subList(whole.size(), lines.size())).containsExactly("share.measured_accepted_per_s=1000",
                "share.measured_seconds=0.50", "share.measured_ack_p50_ms=3.00", "share.measured_ack_p99_ms=3.00",
                "share.measured_ack_max_ms=3.00", "share.measured_ack_calls=1");
    }

    @Test
    void acknowledgementsSentBeforeTheWarmUpsEndCountInTheWholeRunOnlyHoweverLateTheirAnswer() {
        ShareBench.Tally tally = new ShareBench.Tally(1500, 5 * S, true);

        tally.acknowledged(500, 5 * S - 50_000_000, 100_000, 5 * S + 50_000_000); // sent before, answered after
        tally.acknowledged(500, 5 * S, 2_000, 5 * S + 2_000_000);
        tally.acknowledged(500, 6 * S, 3_000, 7 * S);

        ShareBench.Tally.Totals totals = tally.totals(9 * S);
        assertThat(totals.accepted()).isEqualTo(1500);
        assertThat(totals.end()).as("the run ends when its records were accepted").isEqualTo(7 * S);
        assertThat(totals.complete()).isTrue();
        ShareBench.Measured measured = totals.measured();
        assertThat(measured.accepted()).isEqualTo(1000);
        assertThat(measured.seconds()).isEqualTo(2.0);
        assertThat(measured.acks().getTotalCount()).isEqualTo(2);
        assertThat(measured.acks().getMaxValue()).as("the slow call sent before the warm-up's end is not measured")
                .isLessThan(10_000);
    }

    @Test
    void acknowledgementsAnsweredAfterTheRunReachedItsCountAreNotCounted() {
        ShareBench.Tally tally = new ShareBench.Tally(1000, 0, true);

        assertThat(tally.acknowledged(500, 1 * S, 1_000, 1 * S + 1)).isTrue();
        assertThat(tally.acknowledged(500, 2 * S, 1_000, 2 * S)).isTrue();
        assertThat(tally.acknowledged(500, 2 * S, 90_000, 3 * S)).as("a member that polled before the count was "
                + "reached").isFalse();

        ShareBench.Tally.Totals totals = tally.totals(4 * S);
        assertThat(totals.accepted()).isEqualTo(1000);
        assertThat(totals.end()).isEqualTo(2 * S);
        assertThat(totals.measured().accepted()).isEqualTo(1000);
        assertThat(totals.measured().acks().getTotalCount()).isEqualTo(2);
    }

    @Test
    void aRunThatStopsShortEndsWhenItStoppedAndSaysItIsIncomplete() {
        ShareBench.Tally tally = new ShareBench.Tally(1000, 0, false);

        tally.acknowledged(500, 1 * S, 1_000, 1 * S + 1);

        ShareBench.Tally.Totals totals = tally.totals(10 * S);
        assertThat(totals.accepted()).isEqualTo(500);
        assertThat(totals.end()).isEqualTo(10 * S);
        assertThat(totals.complete()).isFalse();
        assertThat(totals.measured()).as("nothing measured without a warm-up").isNull();
    }

    @Test
    void aRunWithNoAcknowledgementSentAfterItsWarmUpHasNoMeasuredFigures() {
        ShareBench.Tally endedBefore = new ShareBench.Tally(500, 5 * S, true);
        endedBefore.acknowledged(500, 1 * S, 1_000, 2 * S);
        assertThat(endedBefore.totals(9 * S).measured()).isNull();

        ShareBench.Tally quietAfter = new ShareBench.Tally(1000, 5 * S, true);
        quietAfter.acknowledged(500, 1 * S, 1_000, 2 * S);
        assertThat(quietAfter.totals(9 * S).measured()).as("stopped short at 9 s, nothing sent after 5 s").isNull();
    }

    @Test
    void aNegativeWarmUpIsRefused() {
        assertThatThrownBy(() -> new ShareBench(1, Duration.ofMinutes(1), 0, Duration.ofSeconds(-5)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
