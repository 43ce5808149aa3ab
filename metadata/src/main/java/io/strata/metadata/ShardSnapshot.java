package io.strata.metadata;

import java.util.List;
import java.util.Map;

/**
 * One shard's index as compaction reads it, at one store revision: its entries, the mod revision of each
 * (by sequence: a swap guards the entries it replaces with them), and its compaction state with the state
 * key's mod revision (0 when it was never written).
 */
public record ShardSnapshot(int shard, List<IndexEntry> entries, Map<Long, Long> modRevisions, ShardState state,
                            long stateModRevision, long revision) {
    public ShardSnapshot {
        entries = List.copyOf(entries);
        modRevisions = Map.copyOf(modRevisions);
        for (IndexEntry e : entries) {
            if (e.shard() != shard || !modRevisions.containsKey(e.sequence())) {
                throw new IllegalArgumentException("entry " + e.shard() + "/" + e.sequence() + " in snapshot of " + shard);
            }
        }
    }
}
