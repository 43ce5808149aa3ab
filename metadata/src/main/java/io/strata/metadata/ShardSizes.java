package io.strata.metadata;

import java.util.Map;
import java.util.TreeMap;

/**
 * What the partitions of one shard store, as the compaction worker that last passed over it measured it: the
 * bytes of the chunks and segments the shard's index references per partition (a partition's staging and half
 * logs counted with it), at {@code measuredAtMs}. Only the index is read to measure it, never the bucket, so
 * it is as exact as the index and as fresh as the last pass (written down when it changed, and at least every
 * few minutes while the shard is passed over). A staging or half log may lie in another shard than its
 * partition, so what a partition stores is the sum over every shard's figure for it.
 */
public record ShardSizes(int shard, long measuredAtMs, Map<PartitionId, Long> bytes) {
    public ShardSizes {
        if (shard < 0 || measuredAtMs < 0) {
            throw new IllegalArgumentException("invalid sizes of shard " + shard);
        }
        bytes = java.util.Collections.unmodifiableMap(new TreeMap<>(bytes));
    }
}
