package io.strata.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KeyPartitionerTest {

    @Test
    void murmur2MatchesKafkaForItsPublishedTestKeys() {
        // The expected values are Kafka's own (UtilsTest.testMurmur2).
        assertThat(KeyPartitioner.murmur2("21".getBytes(UTF_8))).isEqualTo(-973932308);
        assertThat(KeyPartitioner.murmur2("foobar".getBytes(UTF_8))).isEqualTo(-790332482);
        assertThat(KeyPartitioner.murmur2("a-little-bit-long-string".getBytes(UTF_8))).isEqualTo(-985981536);
        assertThat(KeyPartitioner.murmur2("a-little-bit-longer-string".getBytes(UTF_8))).isEqualTo(-1486304829);
        assertThat(KeyPartitioner.murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8".getBytes(UTF_8)))
                .isEqualTo(-58897971);
        assertThat(KeyPartitioner.murmur2(new byte[] {'a', 'b', 'c'})).isEqualTo(479470107);
    }

    @Test
    void partitionIsThePositiveHashModuloThePartitionCount() {
        // toPositive(-973932308) = 1173551340, toPositive(-790332482) = 1357151166.
        assertThat(KeyPartitioner.partition("21".getBytes(UTF_8), 5)).isEqualTo(0);
        assertThat(KeyPartitioner.partition("foobar".getBytes(UTF_8), 5)).isEqualTo(1);
        assertThat(KeyPartitioner.partition("abc".getBytes(UTF_8), 5)).isEqualTo(479470107 % 5);
        assertThat(KeyPartitioner.partition("foobar".getBytes(UTF_8), 7)).isEqualTo(1357151166 % 7);
    }

    @Test
    void toPositiveClearsTheSignBitInsteadOfNegating() {
        assertThat(KeyPartitioner.toPositive(Integer.MIN_VALUE)).isZero();
        assertThat(KeyPartitioner.toPositive(-1)).isEqualTo(Integer.MAX_VALUE);
        assertThat(KeyPartitioner.toPositive(42)).isEqualTo(42);
    }

    @Test
    void anEmptyKeyIsHashedLikeAnyOther() {
        assertThat(KeyPartitioner.partition(new byte[0], 10))
                .isEqualTo(KeyPartitioner.toPositive(KeyPartitioner.murmur2(new byte[0])) % 10);
    }
}
