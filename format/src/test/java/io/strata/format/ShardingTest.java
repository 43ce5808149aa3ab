package io.strata.format;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShardingTest {
    private static final List<String> NODES = List.of("10.0.0.1:9400", "10.0.0.2:9400", "10.0.0.3:9400",
            "10.0.0.4:9400");

    @Test
    void theOwnerIsTheFirstOfTheRanking() {
        for (int p = 0; p < 1_000; p++) {
            long key = Sharding.partitionKey(42, p);
            assertThat(Sharding.owner(key, NODES)).isEqualTo(Sharding.rank(key, NODES).get(0));
        }
        assertThat(Sharding.owner(1, List.of())).isNull();
    }

    @Test
    void aNodeLeavingMovesOnlyItsOwnPartitions() {
        List<String> fewer = new ArrayList<>(NODES);
        fewer.remove("10.0.0.3:9400");
        for (int p = 0; p < 1_000; p++) {
            long key = Sharding.partitionKey(7, p);
            String before = Sharding.owner(key, NODES);
            if (!before.equals("10.0.0.3:9400")) {
                assertThat(Sharding.owner(key, fewer)).isEqualTo(before);
            }
        }
    }
}
