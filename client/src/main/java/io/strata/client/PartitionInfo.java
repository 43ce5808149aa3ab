package io.strata.client;

/** One partition's readable range: offsets from {@code logStartOffset} up to, not including, {@code endOffset}. */
public record PartitionInfo(int partition, long logStartOffset, long endOffset) {
    public PartitionInfo {
        if (partition < 0 || logStartOffset < 0 || endOffset < logStartOffset) {
            throw new IllegalArgumentException("invalid partition range " + partition + " ["
                    + logStartOffset + ", " + endOffset + ")");
        }
    }
}
