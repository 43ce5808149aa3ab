package io.strata.metadata;

/** Set once, when the metadata store is first used; the shard count never changes afterwards. */
public record ClusterInfo(String clusterId, int shards, long createdAtMs) {
    public ClusterInfo {
        if (clusterId == null || shards < 1 || shards > 65_536) {
            throw new IllegalArgumentException("invalid cluster info " + clusterId + " shards=" + shards);
        }
    }
}
