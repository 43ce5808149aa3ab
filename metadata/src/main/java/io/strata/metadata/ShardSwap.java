package io.strata.metadata;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One guarded change of a shard's index, applied in one transaction or not at all: put {@code added}
 * (whose sequences the caller took from the state it read), put {@code newState}, delete {@code replaced}.
 * It holds only if {@code lock} is still held (so a worker whose lease expired changes nothing), the state
 * is still at {@code stateModRevision}, every replaced entry is still at the mod revision given, and no
 * object of {@code newObjects} was condemned by the garbage collector.
 */
public record ShardSwap(int shard, WorkLock lock, long stateModRevision, ShardState newState,
                        Map<Long, Long> replaced, List<IndexEntry> added, Set<String> newObjects) {
    public ShardSwap {
        replaced = Map.copyOf(replaced);
        added = List.copyOf(added);
        newObjects = Set.copyOf(newObjects);
        if (lock == null || newState == null || stateModRevision < 0) {
            throw new IllegalArgumentException("incomplete swap of shard " + shard);
        }
        for (IndexEntry e : added) {
            if (e.shard() != shard || e.sequence() >= newState.nextSequence()
                    || e.sequence() < KeyLayout.COMPACTION_SEQUENCE_BASE) {
                throw new IllegalArgumentException("entry " + e.shard() + "/" + e.sequence() + " cannot be added to "
                        + shard + " with next sequence " + newState.nextSequence());
            }
        }
    }
}
