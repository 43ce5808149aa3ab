package io.strata.format;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a block's footer and chunks. Every structure is checked (magic, version, CRC32C of the footer and
 * of each chunk, bounds of every range), and anything wrong raises {@link BlockFormatException}.
 * Stateless and thread-safe.
 */
public final class BlockReader {
    private BlockReader() {
    }

    /** The chunk entries of a whole block held in {@code block}. */
    public static List<ChunkEntry> readFooter(ByteBuffer block) {
        ByteBuffer in = BlockFormat.bigEndian(block);
        int size = in.remaining();
        if (size < BlockFormat.HEADER_SIZE + 4 + BlockFormat.TRAILER_SIZE) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED,
                    "object of " + size + " bytes is too small to be a block");
        }
        int base = in.position();
        int magic = in.getInt(base);
        if (magic != BlockFormat.MAGIC) {
            throw new BlockFormatException(BlockFormatException.Reason.FOREIGN,
                    String.format("header magic %08x is not a Strata block", magic));
        }
        checkVersion(in.get(base + 4));
        int trailer = base + size - BlockFormat.TRAILER_SIZE;
        if (in.getInt(trailer + 20) != BlockFormat.MAGIC) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED,
                    "no trailer magic at the end: the object is cut short or not a block");
        }
        checkVersion(in.get(trailer + 16));
        long footerOffset = in.getLong(trailer);
        int footerLength = in.getInt(trailer + 8);
        int footerCrc = in.getInt(trailer + 12);
        if (footerOffset < BlockFormat.HEADER_SIZE || footerLength < 4
                || footerOffset + footerLength != size - BlockFormat.TRAILER_SIZE) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT,
                    "footer @" + footerOffset + "+" + footerLength + " does not end at the trailer");
        }
        ByteBuffer footer = in.duplicate().position(base + (int) footerOffset).limit(trailer).slice();
        int actualCrc = BlockFormat.crc32c(footer);
        if (actualCrc != footerCrc) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT,
                    String.format("footer CRC32C %08x does not match %08x", actualCrc, footerCrc));
        }
        footer = BlockFormat.bigEndian(footer);
        int count = footer.getInt();
        if (count < 1 || (long) count * ChunkEntry.ENCODED_SIZE != footerLength - 4) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT,
                    "footer of " + footerLength + " bytes cannot hold " + count + " entries");
        }
        List<ChunkEntry> entries = new ArrayList<>(count);
        long expectedOffset = BlockFormat.HEADER_SIZE;
        for (int i = 0; i < count; i++) {
            ChunkEntry entry;
            try {
                entry = new ChunkEntry(footer.getLong(), footer.getInt(), footer.getLong(), footer.getInt(),
                        footer.getInt(), footer.getInt(), footer.getLong(), footer.getLong(), footer.getInt());
            } catch (IllegalArgumentException e) {
                throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "footer entry " + i, e);
            }
            if (entry.byteOffset() != expectedOffset) {
                throw new BlockFormatException(BlockFormatException.Reason.CORRUPT,
                        "chunk " + i + " starts at " + entry.byteOffset() + ", expected " + expectedOffset);
            }
            expectedOffset += entry.byteLength();
            entries.add(entry);
        }
        if (expectedOffset != footerOffset) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT,
                    "chunks end at " + expectedOffset + " but the footer starts at " + footerOffset);
        }
        return entries;
    }

    /** Decodes one chunk of a whole block held in {@code block}. */
    public static List<LogRecord> readChunk(ByteBuffer block, ChunkEntry entry) {
        ByteBuffer stored = block.duplicate();
        stored.position(block.position() + (int) entry.byteOffset());
        stored.limit(stored.position() + entry.byteLength());
        return ChunkCodec.decode(stored.slice(), entry);
    }

    private static void checkVersion(byte version) {
        if (version != BlockFormat.VERSION_1 && version != BlockFormat.VERSION_2) {
            throw new BlockFormatException(BlockFormatException.Reason.UNSUPPORTED_VERSION,
                    "block format version " + version + " is not supported (this reader knows 1 and 2)");
        }
    }
}
