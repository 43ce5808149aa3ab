package io.strata.format;

/**
 * One chunk of a segment as the segment's footer indexes it: the chunk's entry as in a block, and the
 * offsets it covers, [{@code baseOffset}, {@code baseOffset + offsetCount}). Unlike a WAL block, a segment
 * is written after its records got offsets, so it can say where they are.
 *
 * <p>{@code offsetCount} equals the entry's record count unless key compaction removed records from the
 * range: then the chunk's batches carry each record's offset ({@link BatchCodec#OFFSETS_MAGIC}) and the
 * offsets between them are gone.
 */
public record SegmentChunk(ChunkEntry entry, long baseOffset, int offsetCount) {
    public static final int ENCODED_SIZE = ChunkEntry.ENCODED_SIZE + 8 /* base offset */ + 4 /* offset count */; // = 64

    public SegmentChunk {
        if (entry == null || baseOffset < 0 || offsetCount < entry.recordCount()
                || baseOffset + offsetCount < baseOffset) {
            throw new IllegalArgumentException("invalid segment chunk @" + baseOffset + "+" + offsetCount);
        }
    }

    /** The offset after the last one the chunk covers. */
    public long endOffset() {
        return baseOffset + offsetCount;
    }
}
