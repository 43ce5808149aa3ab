package io.strata.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.PartitionId;
import io.strata.metadata.ShardSizes;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PartitionSizesTest {
    @Test
    void aPartitionStoresWhatEveryShardCountsForItAndAShardNeverMeasuredSaysSo() {
        PartitionId p = new PartitionId(4, 0);
        PartitionId q = new PartitionId(4, 1);
        // Shard 1 holds p's log, shard 3 its staging log (counted for p there); q's shard 2 was never measured.
        PartitionSizes sizes = PartitionSizes.of(List.of(new ShardSizes(1, 5_000, Map.of(p, 1_000L)),
                new ShardSizes(3, 6_000, Map.of(p, 24L))));
        assertThat(sizes.bytes(p)).isEqualTo(1_024);
        assertThat(sizes.bytes(q)).isZero();
        assertThat(sizes.measuredAtMs(1)).isEqualTo(5_000);
        assertThat(sizes.measuredAtMs(2)).isZero();
    }
}
