package io.strata.metadata;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What partitions store, from shards' {@link ShardSizes} summed per partition: a partition's staging and half
 * logs may lie in other shards than the partition, and each shard's measure counts what it holds. Pure.
 */
public record StoredSizes(Map<PartitionId, Long> bytes, Map<Integer, Long> measuredAt) {
    public static StoredSizes of(List<ShardSizes> shards) {
        Map<PartitionId, Long> bytes = new HashMap<>();
        Map<Integer, Long> at = new HashMap<>();
        for (ShardSizes s : shards) {
            s.bytes().forEach((p, b) -> bytes.merge(p, b, Long::sum));
            at.put(s.shard(), s.measuredAtMs());
        }
        return new StoredSizes(bytes, at);
    }

    /** What the partition stores as far as measured (0 before any measure). */
    public long bytes(PartitionId partition) {
        return bytes.getOrDefault(partition, 0L);
    }

    /** When the shard was last measured; 0 when never. */
    public long measuredAtMs(int shard) {
        return measuredAt.getOrDefault(shard, 0L);
    }

    /**
     * The shards holding what a partition stores, whose measures its figure is as old as: its log's, its delayed
     * records' staging log's and its half log's.
     */
    public static java.util.Set<Integer> shardsOf(PartitionId p, MetadataStore store) {
        return new java.util.HashSet<>(java.util.List.of(store.shardOf(p), store.shardOf(p.staging()),
                store.shardOf(p.half()))); // two of them may be one
    }

    /** When the oldest measure a partition's figure comes from was taken; 0 while one of its shards was never measured. */
    public long measuredAtMs(PartitionId p, MetadataStore store) {
        long oldest = Long.MAX_VALUE;
        for (int shard : shardsOf(p, store)) {
            oldest = Math.min(oldest, measuredAtMs(shard));
        }
        return oldest;
    }
}
