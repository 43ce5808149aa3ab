package io.strata.metadata;

import java.util.List;
import java.util.Map;

/**
 * Index entries read at one store revision; a watch from {@code revision} continues exactly after them.
 * {@code logStarts} holds the partitions whose start retention moved, with the first offset kept: a
 * partition whose every chunk expired keeps its end there.
 */
public record IndexSnapshot(List<IndexEntry> entries, Map<PartitionId, Long> logStarts, long revision) {
    public IndexSnapshot {
        entries = List.copyOf(entries);
        logStarts = Map.copyOf(logStarts);
    }

    public IndexSnapshot(List<IndexEntry> entries, long revision) {
        this(entries, Map.of(), revision);
    }
}
