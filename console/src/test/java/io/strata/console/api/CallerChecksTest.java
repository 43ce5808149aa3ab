package io.strata.console.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class CallerChecksTest {
    private static final Set<String> NAMES = Set.of("strata.example.com");

    @Test
    void thePageOfTheNodeItselfMayCall() {
        assertThat(CallerChecks.refusal("application/json", "http://127.0.0.1:9401", "127.0.0.1:9401", NAMES)).isEmpty();
        assertThat(CallerChecks.refusal("application/json; charset=utf-8", null, "localhost:9401", NAMES)).isEmpty();
        assertThat(CallerChecks.refusal("application/json", "https://strata.example.com", "strata.example.com", NAMES))
                .isEmpty();
        assertThat(CallerChecks.refusal("application/json", null, "[::1]:9401", NAMES)).isEmpty();
    }

    @Test
    void aFormOfAnotherSiteIsRefusedForItsContentType() {
        assertThat(CallerChecks.refusal("text/plain", "http://127.0.0.1:9401", "127.0.0.1:9401", NAMES))
                .hasValueSatisfying(r -> assertThat(r.status()).isEqualTo(415));
        assertThat(CallerChecks.refusal(null, null, "127.0.0.1:9401", NAMES)).isPresent();
    }

    @Test
    void anotherOriginIsRefused() {
        assertThat(CallerChecks.refusal("application/json", "http://evil.example", "127.0.0.1:9401", NAMES))
                .hasValueSatisfying(r -> assertThat(r.status()).isEqualTo(403));
        assertThat(CallerChecks.refusal("application/json", "null", "127.0.0.1:9401", NAMES)).isPresent();
    }

    @Test
    void aNameTheNodeWasNotGivenIsRefusedEvenFromItsOwnOriginSoDnsRebindingFails() {
        assertThat(CallerChecks.refusal("application/json", "http://evil.example:9401", "evil.example:9401", NAMES))
                .hasValueSatisfying(r -> assertThat(r.message()).contains("strata.console.allowed-hosts"));
        assertThat(CallerChecks.refusal("application/json", null, null, NAMES)).isPresent();
        assertThat(CallerChecks.refusal("application/json", null, "127.0.0.1.evil.example", NAMES)).isPresent();
    }
}
