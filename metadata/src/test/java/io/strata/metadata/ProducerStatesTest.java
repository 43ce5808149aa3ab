package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The states kept, counted, follow folds, puts, expiry and deleted topics. */
class ProducerStatesTest {
    private static long walked(ProducerStates states) {
        return states.byPartition().values().stream().mapToLong(Map::size).sum();
    }

    @Test
    void theCountFollowsFoldsPutsExpiryAndDeletedTopicsAsAWalkWould() {
        ProducerStates states = new ProducerStates();
        PartitionId a = new PartitionId(1, 0);
        PartitionId b = new PartitionId(2, 0);
        states.fold(new ProducerAppend(a, 10, 0, 5, 0), 1_000);
        states.fold(new ProducerAppend(a, 10, 5, 5, 5), 2_000); // the same producer again: no new state
        states.fold(new ProducerAppend(a, 11, 0, 1, 10), 3_000);
        states.fold(new ProducerAppend(b, 10, 0, 1, 0), 9_000);
        states.put(b, new ProducerState(12, 3, 9_000, List.of(new ProducerState.Batch(0, 4, 1))));
        states.put(b, new ProducerState(12, 4, 9_500, List.of(new ProducerState.Batch(4, 1, 5)))); // replaced
        assertThat(states.size()).isEqualTo(4).isEqualTo(walked(states));

        assertThat(states.expire(2_500)).isEqualTo(1); // producer 10 in partition a last wrote at 2,000
        assertThat(states.size()).isEqualTo(3).isEqualTo(walked(states));

        states.retainTopics(topic -> topic != 2);
        assertThat(states.size()).isEqualTo(1).isEqualTo(walked(states));
        assertThat(states.get(a, 11)).isNotNull();
    }
}
