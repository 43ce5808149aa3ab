package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StoredSizesTest {
    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    @Test
    void aPartitionStoresWhatEveryShardCountsForItAndAShardNeverMeasuredSaysSo() {
        PartitionId p = new PartitionId(4, 0);
        PartitionId q = new PartitionId(4, 1);
        // Shard 1 holds p's log, shard 3 its staging log (counted for p there); q's shard 2 was never measured.
        StoredSizes sizes = StoredSizes.of(List.of(new ShardSizes(1, 5_000, Map.of(p, 1_000L)),
                new ShardSizes(3, 6_000, Map.of(p, 24L))));
        assertThat(sizes.bytes(p)).isEqualTo(1_024);
        assertThat(sizes.bytes(q)).isZero();
        assertThat(sizes.measuredAtMs(1)).isEqualTo(5_000);
        assertThat(sizes.measuredAtMs(2)).isZero();
    }

    @Test
    void aPartitionsFigureIsAsOldAsTheOldestMeasureOfTheShardsHoldingItsLogs() {
        try (MetadataStore store = MetadataStores.embedded(dir, 2)) {
            PartitionId p = new PartitionId(4, 0);
            java.util.Set<Integer> shards = StoredSizes.shardsOf(p, store);
            assertThat(shards).as("at most two shards among two: some coincide").hasSizeBetween(1, 2)
                    .contains(store.shardOf(p), store.shardOf(p.staging()), store.shardOf(p.half()));
            StoredSizes one = StoredSizes.of(List.of(new ShardSizes(store.shardOf(p), 5_000, Map.of(p, 1L))));
            StoredSizes all = StoredSizes.of(shards.stream().map(s -> new ShardSizes(s, 1_000L * (s + 1), Map.of()))
                    .toList());
            assertThat(one.measuredAtMs(p, store)).isEqualTo(shards.size() == 1 ? 5_000 : 0);
            assertThat(all.measuredAtMs(p, store)).isEqualTo(shards.stream().mapToLong(s -> 1_000L * (s + 1)).min()
                    .orElseThrow());
        }
    }
}
