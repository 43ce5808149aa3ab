package io.strata.client;

/**
 * One partition's readable range: offsets from {@code logStartOffset} up to, not including, {@code endOffset};
 * and the bytes it stores in the bucket as compaction last measured them (0 before any measure:
 * {@link TopicInfo#storedBytesMeasuredAtMs()}).
 */
public record PartitionInfo(int partition, long logStartOffset, long endOffset, long storedBytes) {
    public PartitionInfo {
        if (partition < 0 || logStartOffset < 0 || endOffset < logStartOffset || storedBytes < 0) {
            throw new IllegalArgumentException("invalid partition range " + partition + " ["
                    + logStartOffset + ", " + endOffset + ")");
        }
    }

    /** A partition whose stored bytes are not known. */
    public PartitionInfo(int partition, long logStartOffset, long endOffset) {
        this(partition, logStartOffset, endOffset, 0);
    }
}
