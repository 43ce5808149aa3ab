package io.strata.metadata;

/** A committed chunk as the index holds it: which offsets it carries and where its bytes are. */
public record ChunkRef(PartitionId partition, String objectKey, long baseOffset, int recordCount, long byteOffset,
                       int byteLength, int uncompressedLength, long minTimestampMs, long maxTimestampMs,
                       int crc32c) {
    public ChunkRef {
        if (partition == null || objectKey == null || baseOffset < 0 || recordCount <= 0 || byteOffset < 0
                || byteLength <= 0 || uncompressedLength < 0) {
            throw new IllegalArgumentException("invalid chunk ref of " + partition + " in " + objectKey);
        }
    }

    public long endOffset() {
        return baseOffset + recordCount;
    }
}
