package io.strata.metadata;

/** A partition's committed bounds: records live at offsets [logStartOffset, nextOffset). */
public record PartitionOffsets(PartitionId partition, long logStartOffset, long nextOffset) {
    public PartitionOffsets {
        if (partition == null || logStartOffset < 0 || nextOffset < logStartOffset) {
            throw new IllegalArgumentException("invalid offsets of " + partition);
        }
    }
}
