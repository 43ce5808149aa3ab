package io.strata.ingest.block;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ObjectKeysTest {
    @Test
    void walKeysSpreadOverTwoHexDigitPrefixesAndNameTheNodeItsIncarnationAndAPaddedSequence() {
        ObjectKeys keys = new ObjectKeys("ingest-1", 1_764_000_000_000L);
        Set<String> prefixes = new HashSet<>();
        Set<String> all = new HashSet<>();
        for (int i = 1; i <= 100_000; i++) {
            String key = keys.nextWalKey().value();
            assertThat(key).matches("wal/[0-9a-f]{2}/ingest-1-1764000000000-\\d{8,}");
            assertThat(key).endsWith("-" + String.format("%08d", i));
            prefixes.add(key.substring(0, 7));
            all.add(key);
        }
        assertThat(prefixes).as("all 256 prefixes").hasSize(256);
        assertThat(all).as("unique").hasSize(100_000);
    }
}
