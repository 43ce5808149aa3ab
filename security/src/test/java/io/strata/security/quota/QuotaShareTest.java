package io.strata.security.quota;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class QuotaShareTest {
    @Test
    void aClientOnOneNodeGetsTheWholeRate() {
        assertThat(QuotaShare.of(1000, 0, 0)).isEqualTo(1000);
    }

    @Test
    void aNodeTakesWhatTheOthersLeave() {
        assertThat(QuotaShare.of(1000, 200, 1)).isEqualTo(800);
    }

    @Test
    void busyNodesSettleOnAnEvenSplitInsteadOfSwinging() {
        // Both nodes ran at the whole rate a moment ago: each falls back to half, not to nothing.
        double a = QuotaShare.of(1000, 1000, 1);
        double b = QuotaShare.of(1000, 1000, 1);
        assertThat(a).isEqualTo(500);
        // Then each sees the other at half: still half each, the cluster at its rate.
        assertThat(QuotaShare.of(1000, b, 1) + QuotaShare.of(1000, a, 1)).isEqualTo(1000);
    }

    @Test
    void theCombinedRateOfManyBusyNodesStaysWithinTheQuota() {
        // Simulated rounds: three nodes whose clients want more than the whole rate each.
        double[] used = {1000, 1000, 1000};
        for (int round = 0; round < 5; round++) {
            double[] next = new double[3];
            for (int i = 0; i < 3; i++) {
                double others = 0;
                for (int j = 0; j < 3; j++) {
                    others += j == i ? 0 : used[j];
                }
                next[i] = QuotaShare.of(1000, others, 2);
            }
            used = next;
        }
        assertThat(used[0] + used[1] + used[2]).isCloseTo(1000, org.assertj.core.data.Offset.offset(1.0));
    }
}
