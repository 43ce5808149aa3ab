package io.strata.metadata;

/**
 * One partition's chunk of an uploaded block, before it has offsets: where it sits in the object and what
 * it holds. The byte range, sizes and CRC32C come from the block's footer.
 */
public record BlockChunk(PartitionId partition, int recordCount, long byteOffset, int byteLength,
                         int uncompressedLength, long minTimestampMs, long maxTimestampMs, int crc32c) {
    public BlockChunk {
        if (partition == null || recordCount <= 0 || byteOffset < 0 || byteLength <= 0 || uncompressedLength < 0
                || minTimestampMs > maxTimestampMs) {
            throw new IllegalArgumentException("invalid chunk of " + partition + " @" + byteOffset);
        }
    }
}
