package io.strata.metadata;

/** The offsets a commit gave one chunk: {@code recordCount} offsets from {@code baseOffset}. */
public record OffsetRange(PartitionId partition, long baseOffset, int recordCount, long logAppendTimeMs) {
    public OffsetRange {
        if (partition == null || baseOffset < 0 || recordCount <= 0) {
            throw new IllegalArgumentException("invalid offset range of " + partition + " @" + baseOffset);
        }
    }

    /** The offset after the last one of the range. */
    public long endOffset() {
        return baseOffset + recordCount;
    }
}
