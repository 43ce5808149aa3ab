package io.strata.compaction.exec;

import io.strata.compaction.plan.SegmentBuild;
import io.strata.format.ChunkBatches;
import io.strata.format.SealedSegment;
import io.strata.format.SegmentWriter;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.PartitionId;
import io.strata.metadata.SkippedRange;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Lays out one segment from its sources' checked bytes: each source chunk is taken apart into batches of its
 * records with offsets ({@link ChunkBatches}: stored batches pass as they are, retried producers' duplicates
 * are left out), and the batches are packed, in order, into chunks of about {@code chunkBytes}. The chunks
 * tile the offsets [first source's base, last source's end) exactly, so the segment stands in for its
 * sources with nothing missing and nothing added. Stateless.
 */
final class SegmentBuilder {
    private SegmentBuilder() {
    }

    static SealedSegment build(SegmentBuild build, List<ByteBuffer> sourceBytes, int chunkBytes, int compressionLevel) {
        List<ChunkBatches.Placed> batches = new ArrayList<>();
        for (int i = 0; i < build.sources().size(); i++) {
            ChunkRef c = build.sources().get(i);
            batches.addAll(ChunkBatches.withOffsets(sourceBytes.get(i), c.crc32c(), c.uncompressedLength(),
                    c.storedRecordCount(), c.baseOffset(),
                    c.skipped().stream().mapToInt(SkippedRange::firstPosition).toArray(),
                    c.skipped().stream().mapToInt(SkippedRange::count).toArray(), compressionLevel));
        }
        return layout(build.partition(), build.baseOffset(), build.endOffset(), batches, chunkBytes);
    }

    /**
     * The segment of {@code partition} covering offsets [{@code baseOffset}, {@code endOffset}) exactly, of the
     * batches in order, packed into chunks of about {@code chunkBytes}; the first chunk starts at
     * {@code baseOffset} and the last ends at {@code endOffset}, whatever offsets their records have.
     */
    static SealedSegment layout(PartitionId partition, long baseOffset, long endOffset, List<ChunkBatches.Placed> batches,
                                int chunkBytes) {
        SegmentWriter writer = new SegmentWriter(partition.topicId(), partition.partition());
        long chunkStart = baseOffset;
        long previousEnd = baseOffset;
        List<ByteBuffer> chunk = new ArrayList<>();
        long bytes = 0;
        for (ChunkBatches.Placed b : batches) {
            // An ordinary batch takes the offsets after the previous record's, so one that follows a gap (records
            // key compaction removed) must start a chunk of its own, at its first offset.
            boolean gapBeforeOrdinary = b.baseOffset() > previousEnd && !b.withOffsets();
            if (!chunk.isEmpty() && (bytes + b.bytes().remaining() > chunkBytes || gapBeforeOrdinary)) {
                writer.appendChunk(chunkStart, Math.toIntExact(b.baseOffset() - chunkStart), chunk);
                chunk = new ArrayList<>();
                bytes = 0;
                chunkStart = b.baseOffset();
            } else if (chunk.isEmpty() && gapBeforeOrdinary) {
                throw new IllegalStateException("segment of " + partition + " would start at " + chunkStart
                        + " with an ordinary batch at " + b.baseOffset());
            }
            chunk.add(b.bytes());
            bytes += b.bytes().remaining();
            previousEnd = b.endOffset();
        }
        if (chunk.isEmpty()) {
            throw new IllegalStateException("the segment of " + partition + " @" + baseOffset
                    + " would hold no record with an offset");
        }
        writer.appendChunk(chunkStart, Math.toIntExact(endOffset - chunkStart), chunk);
        return writer.finish();
    }
}
