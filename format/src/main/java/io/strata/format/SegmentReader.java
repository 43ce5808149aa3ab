package io.strata.format;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a segment's footer: from its bytes alone, when the caller knows where the footer is and its
 * CRC32C (a fetch node or the compaction job, from the segment's index entry), or from a whole segment.
 * Every structure is checked and anything wrong raises {@link BlockFormatException}. Stateless and
 * thread-safe.
 */
public final class SegmentReader {
    private SegmentReader() {
    }

    /** Where a segment's footer is, as its trailer says. */
    public record FooterLocation(long offset, int length, int crc32c) {
    }

    /**
     * The chunks listed by {@code footer} (exactly the footer's bytes), which starts at {@code footerOffset}
     * of its segment and must have CRC32C {@code expectedCrc32c}: checked, in one partition, back to back from
     * the segment's header to its footer, in ascending offsets.
     */
    public static List<SegmentChunk> readFooter(ByteBuffer footer, long footerOffset, int expectedCrc32c) {
        int actual = BlockFormat.crc32c(footer);
        if (actual != expectedCrc32c) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT,
                    String.format("segment footer CRC32C %08x does not match %08x", actual, expectedCrc32c));
        }
        ByteBuffer in = BlockFormat.bigEndian(footer);
        if (in.remaining() < 4) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED, "segment footer of "
                    + in.remaining() + " bytes");
        }
        int count = in.getInt();
        if (count < 1 || (long) count * SegmentChunk.ENCODED_SIZE != in.remaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT,
                    "segment footer of " + footer.remaining() + " bytes cannot hold " + count + " entries");
        }
        List<SegmentChunk> chunks = new ArrayList<>(count);
        long expectedByteOffset = BlockFormat.HEADER_SIZE;
        long nextOffset = 0;
        for (int i = 0; i < count; i++) {
            SegmentChunk chunk;
            try {
                ChunkEntry entry = new ChunkEntry(in.getLong(), in.getInt(), in.getLong(), in.getInt(), in.getInt(),
                        in.getInt(), in.getLong(), in.getLong(), in.getInt());
                chunk = new SegmentChunk(entry, in.getLong(), in.getInt());
            } catch (IllegalArgumentException e) {
                throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "segment footer entry " + i, e);
            }
            ChunkEntry first = chunks.isEmpty() ? chunk.entry() : chunks.get(0).entry();
            if (chunk.entry().byteOffset() != expectedByteOffset || chunk.baseOffset() < nextOffset
                    || chunk.entry().topicId() != first.topicId() || chunk.entry().partition() != first.partition()) {
                throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "segment chunk " + i
                        + " is out of place (bytes @" + chunk.entry().byteOffset() + ", offsets @" + chunk.baseOffset()
                        + ")");
            }
            expectedByteOffset += chunk.entry().byteLength();
            nextOffset = chunk.endOffset();
            chunks.add(chunk);
        }
        if (expectedByteOffset != footerOffset) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT,
                    "segment chunks end at " + expectedByteOffset + " but the footer starts at " + footerOffset);
        }
        return chunks;
    }

    /** Where the footer is, from the segment's last {@link BlockFormat#TRAILER_SIZE} bytes (its trailer). */
    public static FooterLocation readTrailer(ByteBuffer trailer, long segmentSize) {
        ByteBuffer in = BlockFormat.bigEndian(trailer);
        if (in.remaining() != BlockFormat.TRAILER_SIZE) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED, "segment trailer of "
                    + in.remaining() + " bytes");
        }
        int base = in.position();
        if (in.getInt(base + 20) != BlockFormat.MAGIC) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED,
                    "no trailer magic at the end: the object is cut short or not a segment");
        }
        byte version = in.get(base + 16);
        if (version != BlockFormat.VERSION_3) {
            throw new BlockFormatException(BlockFormatException.Reason.UNSUPPORTED_VERSION,
                    "version " + version + " is not a segment (version 3)");
        }
        long offset = in.getLong(base);
        int length = in.getInt(base + 8);
        if (offset < BlockFormat.HEADER_SIZE || length < 4
                || offset + length != segmentSize - BlockFormat.TRAILER_SIZE) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT,
                    "segment footer @" + offset + "+" + length + " does not end at the trailer");
        }
        return new FooterLocation(offset, length, in.getInt(base + 12));
    }

    /** The chunks of a whole segment held in {@code segment}: header, trailer and footer checked. */
    public static List<SegmentChunk> readWhole(ByteBuffer segment) {
        ByteBuffer in = BlockFormat.bigEndian(segment);
        int size = in.remaining();
        if (size < BlockFormat.HEADER_SIZE + 4 + BlockFormat.TRAILER_SIZE) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED,
                    "object of " + size + " bytes is too small to be a segment");
        }
        int base = in.position();
        if (in.getInt(base) != BlockFormat.MAGIC) {
            throw new BlockFormatException(BlockFormatException.Reason.FOREIGN, "not a Strata segment");
        }
        if (in.get(base + 4) != BlockFormat.VERSION_3) {
            throw new BlockFormatException(BlockFormatException.Reason.UNSUPPORTED_VERSION,
                    "version " + in.get(base + 4) + " is not a segment (version 3)");
        }
        FooterLocation location = readTrailer(in.duplicate().position(base + size - BlockFormat.TRAILER_SIZE).slice(),
                size);
        ByteBuffer footer = in.duplicate().position(base + (int) location.offset())
                .limit(base + (int) location.offset() + location.length()).slice();
        return readFooter(footer, location.offset(), location.crc32c());
    }
}
