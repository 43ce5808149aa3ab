package io.strata.metadata;

import io.strata.format.SkippedRecords;
import java.util.List;

/**
 * A committed chunk as the index holds it: which offsets it carries and where its bytes are. The chunk
 * stores {@code storedRecordCount} records; those in {@code skipped} got no offsets (idempotent retries),
 * and the others, in position order, got {@code recordCount} offsets from {@code baseOffset}. A chunk of a
 * key-compacted segment covers more offsets than it has records ({@code offsetCount}): its records carry
 * their own offsets and those in between are gone.
 */
public record ChunkRef(PartitionId partition, String objectKey, long baseOffset, int recordCount, long byteOffset,
                       int byteLength, int uncompressedLength, long minTimestampMs, long maxTimestampMs,
                       int crc32c, int storedRecordCount, List<SkippedRange> skipped, int offsetCount)
        implements IndexRef {
    public ChunkRef {
        if (partition == null || objectKey == null || baseOffset < 0 || recordCount <= 0 || byteOffset < 0
                || byteLength <= 0 || uncompressedLength < 0 || storedRecordCount < recordCount
                || offsetCount < recordCount || (offsetCount != recordCount && !skipped.isEmpty())) {
            throw new IllegalArgumentException("invalid chunk ref of " + partition + " in " + objectKey);
        }
        skipped = List.copyOf(skipped);
        int skippedCount = skipped.stream().mapToInt(SkippedRange::count).sum();
        if (storedRecordCount - skippedCount != recordCount) {
            throw new IllegalArgumentException("chunk ref of " + partition + " in " + objectKey + ": " + storedRecordCount
                    + " stored - " + skippedCount + " skipped != " + recordCount + " offsets");
        }
    }

    /** A WAL chunk: its records with offsets take consecutive ones. */
    public ChunkRef(PartitionId partition, String objectKey, long baseOffset, int recordCount, long byteOffset,
                    int byteLength, int uncompressedLength, long minTimestampMs, long maxTimestampMs,
                    int crc32c, int storedRecordCount, List<SkippedRange> skipped) {
        this(partition, objectKey, baseOffset, recordCount, byteOffset, byteLength, uncompressedLength,
                minTimestampMs, maxTimestampMs, crc32c, storedRecordCount, skipped, recordCount);
    }

    /** A chunk whose every record got an offset. */
    public ChunkRef(PartitionId partition, String objectKey, long baseOffset, int recordCount, long byteOffset,
                    int byteLength, int uncompressedLength, long minTimestampMs, long maxTimestampMs, int crc32c) {
        this(partition, objectKey, baseOffset, recordCount, byteOffset, byteLength, uncompressedLength,
                minTimestampMs, maxTimestampMs, crc32c, recordCount, List.of());
    }

    /** The chunk of a segment that its footer lists as {@code chunk}. */
    public static ChunkRef of(PartitionId partition, String objectKey, io.strata.format.SegmentChunk chunk) {
        io.strata.format.ChunkEntry e = chunk.entry();
        return new ChunkRef(partition, objectKey, chunk.baseOffset(), e.recordCount(), e.byteOffset(), e.byteLength(),
                e.uncompressedLength(), e.minTimestampMs(), e.maxTimestampMs(), e.crc32c(), e.recordCount(), List.of(),
                chunk.offsetCount());
    }

    @Override
    public long endOffset() {
        return baseOffset + offsetCount;
    }

    /** The decoded records that have offsets (the i-th has offset baseOffset + i), dropping skipped ones. */
    public <T> List<T> withOffsets(List<T> stored) {
        return SkippedRecords.drop(stored, storedRecordCount, skipped.stream().mapToInt(SkippedRange::firstPosition)
                .toArray(), skipped.stream().mapToInt(SkippedRange::count).toArray());
    }
}
