package io.strata.transactions.half;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class HalfDecisionsTest {
    private static final HalfState PENDING = HalfState.pending("shop", 1_000, 60_000);

    @Test
    void aPendingHalfMessageIsDecidedOnceAndTheSameDecisionAgainStandsWhileTheOtherIsRefused() {
        HalfDecisions.Outcome commit = HalfDecisions.decide(PENDING, true, true, "producer");
        assertThat(commit.refused()).isFalse();
        assertThat(commit.write().status()).isEqualTo(HalfState.Status.COMMIT);
        assertThat(commit.write().decidedBy()).isEqualTo("producer");

        HalfDecisions.Outcome again = HalfDecisions.decide(commit.write(), true, true, "check-back");
        assertThat(again.write()).as("nothing to write: the decision stands").isNull();
        assertThat(again.stands()).isEqualTo(HalfState.Status.COMMIT);
        assertThat(HalfDecisions.decide(commit.write().settled(5_000), true, true, "producer").refused()).isFalse();

        HalfDecisions.Outcome rollback = HalfDecisions.decide(commit.write(), true, false, "operator");
        assertThat(rollback.refused()).isTrue();
        assertThat(rollback.refusal()).contains("already committed (by producer)");
        assertThat(HalfDecisions.decide(commit.write().settled(5_000), true, false, "producer").refusal())
                .contains("already committed");
    }

    @Test
    void aDecisionAheadOfTheScanIsWrittenButOneForAMessageSettledLongAgoIsRefused() {
        HalfDecisions.Outcome ahead = HalfDecisions.decide(null, false, false, "producer");
        assertThat(ahead.write().status()).isEqualTo(HalfState.Status.ROLLBACK);
        assertThat(ahead.write().found("shop", 7).group()).isEqualTo("shop");
        assertThat(HalfDecisions.decide(null, true, true, "producer").refusal()).contains("settled more than");
    }

    @Test
    void aPendingHalfMessageIsCheckedWhenDueAndGivenUpAfterTheMostChecks() {
        assertThat(HalfDecisions.due(PENDING, 60_999, 3)).isEqualTo(HalfDecisions.Due.WAIT);
        assertThat(HalfDecisions.due(PENDING, 61_000, 3)).isEqualTo(HalfDecisions.Due.CHECK);
        HalfState checked = PENDING.checked(121_000).checked(181_000).checked(241_000);
        assertThat(checked.checks()).isEqualTo(3);
        assertThat(HalfDecisions.due(checked, 240_999, 3)).isEqualTo(HalfDecisions.Due.WAIT);
        assertThat(HalfDecisions.due(checked, 241_000, 3)).isEqualTo(HalfDecisions.Due.GIVE_UP);
        assertThat(HalfDecisions.due(checked.decided(true, "check-back"), 999_999, 3)).isEqualTo(HalfDecisions.Due.WAIT);
        assertThatThrownBy(() -> checked.decided(true, "x").decided(false, "y")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void statesAndScansSurviveTheirEncoding() {
        HalfState state = PENDING.checked(99).decided(false, "checks exhausted").settled(123);
        assertThat(HalfState.decode(state.encode())).isEqualTo(state);
        HalfScan scan = HalfScan.EMPTY.scannedTo(40).withProducer(7).planning(List.of(3L, 9L, 12L), 55);
        assertThat(HalfScan.decode(scan.encode())).isEqualTo(scan);
        assertThat(HalfScan.decode(scan.roundDelivered().encode()).nextSequence()).isEqualTo(3);
        assertThatThrownBy(() -> HalfState.decode(new byte[] {1, 2})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HalfScan.decode(new byte[] {0x53, 1, 0})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> scan.planning(List.of(1L), 0)).isInstanceOf(IllegalStateException.class);
    }
}
