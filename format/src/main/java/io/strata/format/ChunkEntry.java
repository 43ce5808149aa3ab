package io.strata.format;

/**
 * One partition's chunk of a WAL block, as the footer indexes it. The chunk is one zstd frame; its CRC32C
 * covers exactly the {@code byteLength} stored (compressed) bytes.
 */
public record ChunkEntry(long topicId, int partition, long byteOffset, int byteLength, int uncompressedLength,
                         int recordCount, long minTimestampMs, long maxTimestampMs, int crc32c) {
    public static final int ENCODED_SIZE = 8 /* topic id */ + 4 /* partition */ + 8 /* byte offset */
            + 4 /* byte length */ + 4 /* uncompressed length */ + 4 /* record count */
            + 8 + 8 /* min, max timestamp */ + 4 /* crc32c */; // = 52

    public ChunkEntry {
        if (topicId <= 0 || partition < 0 || byteOffset < BlockFormat.HEADER_SIZE || byteLength <= 0
                || uncompressedLength < 0 || recordCount <= 0 || minTimestampMs > maxTimestampMs) {
            throw new IllegalArgumentException("invalid chunk entry " + topicId + "/" + partition + " @" + byteOffset
                    + "+" + byteLength + " records=" + recordCount);
        }
    }
}
