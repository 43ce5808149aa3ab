package io.strata.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.security.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.junit.jupiter.api.Test;

class ScramTest {
    @Test
    void materialIsWhatKafkasScramMakesFromTheSamePasswordAndSalt() throws Exception {
        byte[] salt = "0123456789abcdef0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        ScramCredential ours = Scram.create("pässword-1", salt, 4096);
        ScramFormatter kafka = new ScramFormatter(ScramMechanism.SCRAM_SHA_512);
        org.apache.kafka.common.security.scram.ScramCredential theirs =
                kafka.generateCredential(salt, kafka.saltedPassword("pässword-1", salt, 4096), 4096);
        assertThat(ours.storedKey()).isEqualTo(theirs.storedKey());
        assertThat(ours.serverKey()).isEqualTo(theirs.serverKey());
        assertThat(ours.iterations()).isEqualTo(theirs.iterations());
    }

    @Test
    void onlyThePasswordTheMaterialWasMadeFromMatches() {
        ScramCredential c = Scram.create("right");
        assertThat(Scram.matches(c, "right")).isTrue();
        assertThat(Scram.matches(c, "wrong")).isFalse();
        assertThat(Scram.matches(c, "")).isFalse();
        assertThat(Scram.create("right").salt()).isNotEqualTo(c.salt()); // a fresh salt each time
    }
}
