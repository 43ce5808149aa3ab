package io.strata.format;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A stored chunk taken apart into record batches that hold exactly its records with offsets, each placed at
 * its offsets: what compaction moves into segments. Batches are passed on as they are stored whenever they
 * can be (no inflating, no compressing); only a batch that mixes records with and without offsets (an
 * idempotent producer's retry stored inside a batch of the node's own) and a version-1 chunk (one frame for
 * the whole chunk) are decoded and built again. Stateless and thread-safe.
 */
public final class ChunkBatches {
    private ChunkBatches() {
    }

    /**
     * One batch of records with offsets: its stored bytes, and the offsets it covers,
     * [{@code baseOffset}, {@code baseOffset + offsetSpan}); {@code withOffsets} for an offset batch (a
     * key-compacted segment's, whose records carry their offsets), whose span may exceed its record count.
     */
    public record Placed(ByteBuffer bytes, long baseOffset, int recordCount, int offsetSpan, boolean withOffsets) {
        public long endOffset() {
            return baseOffset + offsetSpan;
        }
    }

    /**
     * The batches of the chunk whose stored bytes are {@code chunk}, holding its records with offsets in order.
     * The chunk's first record with an offset has {@code baseOffset}; the records at the stored positions of
     * the skipped ranges ({@code skippedFirst[k]}, {@code skippedCount[k]}, ascending) have none and are left
     * out. Batches built again are compressed at {@code compressionLevel}.
     *
     * @throws BlockFormatException when the chunk fails its CRC32C or is inconsistent with the counts
     */
    public static List<Placed> withOffsets(ByteBuffer chunk, int crc32c, int uncompressedLength, int storedRecordCount,
                                           long baseOffset, int[] skippedFirst, int[] skippedCount,
                                           int compressionLevel) {
        ChunkCodec.verify(chunk, crc32c);
        int[] index = SkippedRecords.offsetIndexes(storedRecordCount, skippedFirst, skippedCount);
        if (!BatchCodec.startsWithBatch(chunk)) {
            return version1(chunk, crc32c, uncompressedLength, storedRecordCount, baseOffset, index, compressionLevel);
        }
        List<Placed> out = new ArrayList<>();
        int position = 0;
        long next = baseOffset;
        long uncompressed = 0;
        for (BatchCodec.Part part : BatchCodec.split(chunk)) {
            uncompressed += BatchCodec.headerInfo(part.bytes()).uncompressedLength();
            int from = position;
            position += part.recordCount();
            if (position > storedRecordCount) {
                break; // reported below
            }
            int kept = 0;
            for (int p = from; p < position; p++) {
                kept += index == null || index[p] >= 0 ? 1 : 0;
            }
            if (kept == 0) {
                continue;
            }
            if (part.withOffsets()) {
                if (index != null || part.baseOffset() < next) {
                    throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "offset batch @"
                            + part.baseOffset() + " overlaps the offsets before it or has skipped records");
                }
                out.add(new Placed(part.bytes(), part.baseOffset(), part.recordCount(), part.offsetSpan(), true));
                next = part.baseOffset() + part.offsetSpan();
            } else if (kept == part.recordCount()) {
                out.add(new Placed(part.bytes(), next, kept, kept, false));
                next += kept;
            } else {
                BatchBuilder builder = new BatchBuilder(BatchCodec.headerInfo(part.bytes()).uncompressedLength());
                List<LogRecord> records = BatchCodec.decode(part.bytes());
                for (int i = 0; i < records.size(); i++) {
                    if (index[from + i] >= 0) {
                        builder.append(records.get(i));
                    }
                }
                out.add(new Placed(builder.build(compressionLevel), next, kept, kept, false));
                next += kept;
            }
        }
        if (position != storedRecordCount || uncompressed != uncompressedLength) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "chunk holds " + position
                    + " records in " + uncompressed + " bytes, index says " + storedRecordCount + " in "
                    + uncompressedLength);
        }
        return out;
    }

    /** Receives a record of a placed batch with its offset. */
    @FunctionalInterface
    public interface OffsetRecordVisitor {
        void record(long offset, long timestampMs, byte[] key, byte[] value, List<RecordHeader> headers);
    }

    /** Decodes the placed batch's records, in order, each with its offset (key compaction reads them so). */
    public static void records(Placed batch, OffsetRecordVisitor visitor) {
        BatchCodec.decodeAll(batch.bytes(), batch.baseOffset(), (position, offsetDelta, timestampMs, key, value,
                                                                 headers) ->
                visitor.record(batch.baseOffset() + offsetDelta, timestampMs, key, value, headers));
    }

    private static List<Placed> version1(ByteBuffer chunk, int crc32c, int uncompressedLength, int storedRecordCount,
                                         long baseOffset, int[] index, int compressionLevel) {
        BatchBuilder builder = new BatchBuilder(uncompressedLength);
        ChunkCodec.decode(chunk, crc32c, uncompressedLength, storedRecordCount, 0,
                (position, offsetDelta, timestampMs, key, value, headers) -> {
                    if (index == null || index[position] >= 0) {
                        builder.append(new LogRecord(key, value, headers, timestampMs));
                    }
                });
        if (builder.isEmpty()) {
            return List.of();
        }
        int count = builder.recordCount();
        return List.of(new Placed(builder.build(compressionLevel), baseOffset, count, count, false));
    }
}
