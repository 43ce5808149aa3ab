package io.strata.metadata.security;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProducerIdBindingTest {
    private final ProducerIdBinding binding = new ProducerIdBinding(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
            13, 14, 15, 16});

    @Test
    void anIdNamesThePrincipalItWasIssuedToAndItsCounter() {
        long id = binding.bind(42, "User:alice");
        assertThat(id).isPositive();
        assertThat(ProducerIdBinding.counterOf(id)).isEqualTo(42);
        assertThat(binding.boundTo(id, "User:alice")).isTrue();
        assertThat(binding.boundTo(id, "User:mallory")).isFalse();
    }

    @Test
    void anotherClustersKeyMakesOtherIds() {
        ProducerIdBinding other = new ProducerIdBinding(new byte[16]);
        assertThat(other.boundTo(binding.bind(42, "User:alice"), "User:alice")).isFalse();
    }

    @Test
    void idsOfTheOlderFormNameNobody() {
        assertThat(ProducerIdBinding.bound(42)).isFalse();
        assertThat(ProducerIdBinding.counterOf(42)).isEqualTo(42);
        assertThat(binding.boundTo(42, "User:alice")).isFalse();
    }

    @Test
    void guessingAnotherPrincipalsIdRarelySucceeds() {
        int hits = 0;
        for (long counter = 1; counter <= 20_000; counter++) {
            hits += binding.boundTo(binding.bind(counter, "User:alice"), "User:mallory") ? 1 : 0;
        }
        assertThat(hits).isLessThan(2); // 28 bits: about one in 270 million
    }
}
