package io.strata.server.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.PartitionId;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** What a console round reads: held shards always, a few others a round, and which topics wait. */
class ChartReadsTest {

    /** Topic 1 has a partition in each of shards 0..39; topic 2 one partition, in shard 3. */
    private static SortedMap<Integer, List<PartitionId>> byShard() {
        SortedMap<Integer, List<PartitionId>> byShard = new TreeMap<>();
        for (int shard = 0; shard < 40; shard++) {
            byShard.put(shard, new java.util.ArrayList<>(List.of(new PartitionId(1, shard))));
        }
        byShard.get(3).add(new PartitionId(2, 0));
        return byShard;
    }

    @Test
    void everyHeldShardIsReadAndAtMostTheBudgetOfOthersLowestFirst() {
        Set<Integer> held = Set.of(30, 31, 39);
        ChartReads plan = ChartReads.plan(byShard(), held::contains, 4, 16);
        List<Integer> shardsRead = plan.bySlot().values().stream().flatMap(List::stream)
                .filter(p -> p.topicId() == 1).map(PartitionId::partition).sorted().toList();
        assertThat(shardsRead).containsExactly(0, 1, 2, 3, 30, 31, 39);
        assertThat(plan.waiting()).as("topic 1 has partitions in shards left out; topic 2's shard was read")
                .containsExactly(1L);
        assertThat(plan.bySlot().keySet()).as("slots of 16 shards").containsExactly(0, 1, 2);
        assertThat(plan.bySlot().get(0)).contains(new PartitionId(2, 0));
    }

    @Test
    void withEveryShardHeldNothingWaits() {
        ChartReads plan = ChartReads.plan(byShard(), shard -> true, 0, 16);
        assertThat(plan.waiting()).isEmpty();
        assertThat(plan.bySlot().values().stream().mapToInt(List::size).sum()).isEqualTo(41);
    }
}
