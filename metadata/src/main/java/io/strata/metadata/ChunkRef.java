package io.strata.metadata;

import io.strata.format.SkippedRecords;
import java.util.List;

/**
 * A committed chunk as the index holds it: which offsets it carries and where its bytes are. The chunk
 * stores {@code storedRecordCount} records; those in {@code skipped} got no offsets (idempotent retries),
 * and the others, in position order, got {@code recordCount} offsets from {@code baseOffset}.
 */
public record ChunkRef(PartitionId partition, String objectKey, long baseOffset, int recordCount, long byteOffset,
                       int byteLength, int uncompressedLength, long minTimestampMs, long maxTimestampMs,
                       int crc32c, int storedRecordCount, List<SkippedRange> skipped) {
    public ChunkRef {
        if (partition == null || objectKey == null || baseOffset < 0 || recordCount <= 0 || byteOffset < 0
                || byteLength <= 0 || uncompressedLength < 0 || storedRecordCount < recordCount) {
            throw new IllegalArgumentException("invalid chunk ref of " + partition + " in " + objectKey);
        }
        skipped = List.copyOf(skipped);
        int skippedCount = skipped.stream().mapToInt(SkippedRange::count).sum();
        if (storedRecordCount - skippedCount != recordCount) {
            throw new IllegalArgumentException("chunk ref of " + partition + " in " + objectKey + ": " + storedRecordCount
                    + " stored - " + skippedCount + " skipped != " + recordCount + " offsets");
        }
    }

    /** A chunk whose every record got an offset. */
    public ChunkRef(PartitionId partition, String objectKey, long baseOffset, int recordCount, long byteOffset,
                    int byteLength, int uncompressedLength, long minTimestampMs, long maxTimestampMs, int crc32c) {
        this(partition, objectKey, baseOffset, recordCount, byteOffset, byteLength, uncompressedLength,
                minTimestampMs, maxTimestampMs, crc32c, recordCount, List.of());
    }

    public long endOffset() {
        return baseOffset + recordCount;
    }

    /** The decoded records that have offsets (the i-th has offset baseOffset + i), dropping skipped ones. */
    public <T> List<T> withOffsets(List<T> stored) {
        return SkippedRecords.drop(stored, storedRecordCount, skipped.stream().mapToInt(SkippedRange::firstPosition)
                .toArray(), skipped.stream().mapToInt(SkippedRange::count).toArray());
    }
}
