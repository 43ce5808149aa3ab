package io.strata.security;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OpenCountsTest {
    @Test
    void eachKeyIsHeldToItsBoundAndGetsRoomBackAsItsOwnClose() {
        OpenCounts counts = new OpenCounts(2);
        assertThat(counts.tryOpen("10.0.0.1")).isTrue();
        assertThat(counts.tryOpen("10.0.0.1")).isTrue();
        assertThat(counts.tryOpen("10.0.0.1")).isFalse();
        assertThat(counts.tryOpen("10.0.0.2")).isTrue(); // others are not affected
        counts.close("10.0.0.1");
        assertThat(counts.tryOpen("10.0.0.1")).isTrue();
        assertThat(counts.open("10.0.0.1")).isEqualTo(2);
    }

    @Test
    void aKeyWithNothingOpenIsForgotten() {
        OpenCounts counts = new OpenCounts(1);
        counts.tryOpen("a");
        counts.close("a");
        assertThat(counts.open("a")).isZero();
        assertThat(counts.tryOpen("a")).isTrue();
    }
}
