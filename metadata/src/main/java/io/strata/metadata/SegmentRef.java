package io.strata.metadata;

import io.strata.format.SegmentChunk;
import java.util.List;

/**
 * The live part of a segment as the index holds it: one partition's chunks [{@code firstChunk},
 * {@code chunkCount}) of the segment's footer, which cover offsets [{@code baseOffset}, {@code endOffset})
 * and stored bytes [{@code byteOffset}, {@code byteOffset + byteLength}). The chunks themselves are listed
 * only in the footer (at {@code footerOffset}, {@code footerLength} bytes, CRC32C {@code footerCrc32c}),
 * so the metadata store holds one entry per segment whatever its chunk count. Retention moves
 * {@code firstChunk} forward ({@link #from}).
 */
public record SegmentRef(PartitionId partition, String objectKey, long baseOffset, long endOffset, int firstChunk,
                         int chunkCount, long byteOffset, long byteLength, long uncompressedBytes, long recordCount,
                         long minTimestampMs, long maxTimestampMs, long footerOffset, int footerLength,
                         int footerCrc32c) implements IndexRef {
    public SegmentRef {
        if (partition == null || objectKey == null || baseOffset < 0 || endOffset <= baseOffset || firstChunk < 0
                || firstChunk >= chunkCount || byteOffset < 0 || byteLength <= 0 || recordCount <= 0
                || recordCount > endOffset - baseOffset || minTimestampMs > maxTimestampMs || footerOffset <= 0
                || footerLength < 4) {
            throw new IllegalArgumentException("invalid segment ref of " + partition + " in " + objectKey + " @"
                    + baseOffset + ".." + endOffset + " chunks " + firstChunk + "/" + chunkCount);
        }
    }

    /** The segment written with {@code chunks} (all of its footer), every chunk live. */
    public static SegmentRef of(PartitionId partition, String objectKey, List<SegmentChunk> chunks, long footerOffset,
                                int footerLength, int footerCrc32c) {
        return live(partition, objectKey, chunks, 0, footerOffset, footerLength, footerCrc32c);
    }

    /** This segment with the chunks before {@code chunk} (an index into {@code footer}) cut off by retention. */
    public SegmentRef from(int chunk, List<SegmentChunk> footer) {
        if (footer.size() != chunkCount || chunk < firstChunk || chunk >= chunkCount) {
            throw new IllegalArgumentException("cannot start segment " + objectKey + " at chunk " + chunk);
        }
        return live(partition, objectKey, footer, chunk, footerOffset, footerLength, footerCrc32c);
    }

    private static SegmentRef live(PartitionId partition, String objectKey, List<SegmentChunk> chunks, int first,
                                   long footerOffset, int footerLength, int footerCrc32c) {
        long uncompressed = 0;
        long records = 0;
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (SegmentChunk c : chunks.subList(first, chunks.size())) {
            uncompressed += c.entry().uncompressedLength();
            records += c.entry().recordCount();
            min = Math.min(min, c.entry().minTimestampMs());
            max = Math.max(max, c.entry().maxTimestampMs());
        }
        SegmentChunk start = chunks.get(first);
        SegmentChunk last = chunks.get(chunks.size() - 1);
        long byteOffset = start.entry().byteOffset();
        return new SegmentRef(partition, objectKey, start.baseOffset(), last.endOffset(), first, chunks.size(),
                byteOffset, last.entry().byteOffset() + last.entry().byteLength() - byteOffset, uncompressed, records,
                min, max, footerOffset, footerLength, footerCrc32c);
    }
}
