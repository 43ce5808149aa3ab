package io.strata.metadata;

/** What became of a {@link ShardSwap}. */
public sealed interface SwapOutcome {
    /** Applied at {@code revision}: the state and the added entries now have that mod revision. */
    record Applied(long revision) implements SwapOutcome {
    }

    /**
     * Not applied: the lock was lost, another writer changed the state or a replaced entry, or a new object
     * was condemned. Nothing was written; read the shard again.
     */
    record Conflict(String why) implements SwapOutcome {
    }
}
