package io.strata.server.admin;

import io.strata.metadata.PartitionId;
import io.strata.metadata.ShardSizes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every shard's sizes summed per partition: a partition's staging and half logs may lie in other shards than
 * the partition, and each shard's measure counts what it holds. Pure.
 */
record PartitionSizes(Map<PartitionId, Long> bytes, Map<Integer, Long> measuredAt) {
    static PartitionSizes of(List<ShardSizes> shards) {
        Map<PartitionId, Long> bytes = new HashMap<>();
        Map<Integer, Long> at = new HashMap<>();
        for (ShardSizes s : shards) {
            s.bytes().forEach((p, b) -> bytes.merge(p, b, Long::sum));
            at.put(s.shard(), s.measuredAtMs());
        }
        return new PartitionSizes(bytes, at);
    }

    /** What the partition stores as far as measured (0 before any measure). */
    long bytes(PartitionId partition) {
        return bytes.getOrDefault(partition, 0L);
    }

    /** When the shard was last measured; 0 when never. */
    long measuredAtMs(int shard) {
        return measuredAt.getOrDefault(shard, 0L);
    }
}
