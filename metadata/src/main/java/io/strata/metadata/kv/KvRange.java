package io.strata.metadata.kv;

import java.util.List;

/** Keys read at one store revision, in key order. A watch from {@code revision} continues exactly after them. */
public record KvRange(List<KeyValue> entries, long revision) {
    public KvRange {
        entries = List.copyOf(entries);
    }
}
