package io.strata.format;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds one segment (format version 3, docs/block-format.md "Segments"): the chunks of one partition that
 * compaction merged, in offset order. A chunk is a sequence of whole record batches, copied as they are
 * (compaction moves compressed batches; it inflates only what it must change), and its footer entry says
 * which offsets it covers, so a reader finds a chunk by offset from the footer alone.
 *
 * <pre>
 * segment = header chunk* footer trailer            (header and trailer as a block's, version 3)
 * footer  = entry count (4) + SegmentChunk (64) * count
 * </pre>
 *
 * <p>Not thread-safe: one owner appends, then finishes once.
 */
public final class SegmentWriter {
    private final long topicId;
    private final int partition;
    private final List<PendingChunk> chunks = new ArrayList<>();
    private long size = BlockFormat.HEADER_SIZE;
    private long nextOffset = -1;
    private boolean finished;

    private record PendingChunk(List<ByteBuffer> batches, long baseOffset, int offsetCount, int recordCount,
                                long uncompressedLength, long minTimestampMs, long maxTimestampMs, long sizeBytes) {
    }

    public SegmentWriter(long topicId, int partition) {
        if (topicId <= 0 || partition < 0) {
            throw new IllegalArgumentException("invalid partition " + topicId + "/" + partition);
        }
        this.topicId = topicId;
        this.partition = partition;
    }

    /**
     * Appends a chunk made of {@code batches} (whole batches as a chunk stores them), whose records cover
     * the offsets [{@code baseOffset}, {@code baseOffset + offsetCount}): ordinary batches take the offsets
     * after the previous record's (the first from the base), offset batches their own; offsets after the last
     * record may be empty. The chunk must start at or after the previous chunk's end.
     * The batches are referenced, not copied, until {@link #finish}.
     */
    public void appendChunk(long baseOffset, int offsetCount, List<ByteBuffer> batches) {
        if (finished) {
            throw new IllegalStateException("segment already finished");
        }
        if (batches.isEmpty() || baseOffset < 0 || baseOffset < nextOffset) {
            throw new IllegalArgumentException("chunk @" + baseOffset + " is empty or does not follow " + nextOffset);
        }
        int records = 0;
        long uncompressed = 0;
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        long bytes = 0;
        for (ByteBuffer batch : batches) {
            BatchInfo info = BatchCodec.headerInfo(batch);
            records += info.recordCount();
            uncompressed += info.uncompressedLength();
            min = Math.min(min, info.minTimestampMs());
            max = Math.max(max, info.maxTimestampMs());
            bytes += batch.remaining();
        }
        // A chunk may cover offsets after its last record (key compaction removed those records); readers
        // check that every record's offset falls inside it.
        if (offsetCount < records) {
            throw new IllegalArgumentException("chunk @" + baseOffset + " of " + records + " records cannot cover "
                    + offsetCount + " offsets");
        }
        if (uncompressed > BlockFormat.MAX_UNCOMPRESSED_CHUNK || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("chunk @" + baseOffset + " is too large: " + bytes + " bytes");
        }
        chunks.add(new PendingChunk(List.copyOf(batches), baseOffset, offsetCount, records, uncompressed, min, max,
                bytes));
        size += bytes;
        nextOffset = baseOffset + offsetCount;
    }

    public boolean isEmpty() {
        return chunks.isEmpty();
    }

    /** Stored bytes of the chunks appended so far. */
    public long chunkBytes() {
        return size - BlockFormat.HEADER_SIZE;
    }

    /** Lays out the segment, copying every batch once, into place. The writer cannot be used afterwards. */
    public SealedSegment finish() {
        if (chunks.isEmpty()) {
            throw new IllegalStateException("cannot finish an empty segment");
        }
        finished = true;
        ByteBuffer out = BlockFormat.startObject("segment", size, 4 + chunks.size() * SegmentChunk.ENCODED_SIZE,
                BlockFormat.VERSION_3);
        List<SegmentChunk> entries = new ArrayList<>(chunks.size());
        for (PendingChunk chunk : chunks) {
            int start = out.position();
            for (ByteBuffer batch : chunk.batches()) {
                out.put(batch.duplicate());
            }
            int crc = BlockFormat.crc32c(out.duplicate().position(start).limit(out.position()));
            ChunkEntry entry = new ChunkEntry(topicId, partition, start, out.position() - start,
                    (int) chunk.uncompressedLength(), chunk.recordCount(), chunk.minTimestampMs(),
                    chunk.maxTimestampMs(), crc);
            entries.add(new SegmentChunk(entry, chunk.baseOffset(), chunk.offsetCount()));
        }
        chunks.clear(); // let the source batches go
        int footerStart = out.position();
        out.putInt(entries.size());
        for (SegmentChunk c : entries) {
            ChunkEntry e = c.entry();
            out.putLong(e.topicId()).putInt(e.partition()).putLong(e.byteOffset()).putInt(e.byteLength())
                    .putInt(e.uncompressedLength()).putInt(e.recordCount()).putLong(e.minTimestampMs())
                    .putLong(e.maxTimestampMs()).putInt(e.crc32c()).putLong(c.baseOffset()).putInt(c.offsetCount());
        }
        BlockFormat.finishObject(out, footerStart, BlockFormat.VERSION_3);
        int footerLength = out.limit() - BlockFormat.TRAILER_SIZE - footerStart;
        return new SealedSegment(out, entries, footerStart, footerLength,
                out.getInt(out.limit() - BlockFormat.TRAILER_SIZE + 12));
    }
}
