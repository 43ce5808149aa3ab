package io.strata.security.quota;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void aSecondOfBurstPassesThenEachTakerWaitsForItsDebt() {
        TokenBucket b = new TokenBucket(1000, 0);
        assertThat(b.take(1000, 0)).isZero();
        assertThat(b.take(500, 0)).isEqualTo(SECOND / 2);
        assertThat(b.take(500, 0)).isEqualTo(SECOND); // pipelined: the second waits behind the first
        assertThat(b.owed(SECOND / 2)).isEqualTo(SECOND / 2);
        assertThat(b.owed(SECOND)).isZero();
    }

    @Test
    void aTakerThatWaitsAsToldKeepsToTheRate() {
        TokenBucket b = new TokenBucket(1_000_000, 0);
        long now = 0;
        long taken = 0;
        while (now < 10 * SECOND) {
            now += b.take(64 * 1024, now); // wait what it is told, then send the next
            taken += 64 * 1024;
        }
        double rate = taken / (now / 1e9);
        assertThat(rate).isBetween(1_000_000 * 0.95, 1_000_000 * 1.12); // the burst, spread over ten seconds
    }

    @Test
    void oneHugeTakeIsPaidForAtMostFiveMinutes() {
        TokenBucket b = new TokenBucket(1000, 0);
        assertThat(b.take(1_000_000_000, 0)).isEqualTo(300 * SECOND);
    }

    @Test
    void aLowerRateKeepsTheDebtAndCapsTheBurst() {
        TokenBucket b = new TokenBucket(1000, 0);
        b.rate(100, 0);
        assertThat(b.take(100, 0)).isZero();
        assertThat(b.take(100, 0)).isEqualTo(SECOND);
    }

    @Test
    void aRefundGivesBackWhatWasNotUsed() {
        TokenBucket b = new TokenBucket(1000, 0);
        b.take(1000, 0);
        assertThat(b.take(500, 0)).isEqualTo(SECOND / 2);
        b.refund(500, 0);
        assertThat(b.owed(0)).isZero();
    }

    @Test
    void aLowerShareKeepsTheDebtWithinItsBound() {
        TokenBucket b = new TokenBucket(1000, 0);
        b.take(1_000_000_000, 0);
        b.rate(10, 0);
        assertThat(b.owed(0)).isEqualTo(300 * SECOND);
    }
}
