package io.strata.metadata;

import java.util.List;

/** Index entries read at one store revision; a watch from {@code revision} continues exactly after them. */
public record IndexSnapshot(List<IndexEntry> entries, long revision) {
    public IndexSnapshot {
        entries = List.copyOf(entries);
    }
}
