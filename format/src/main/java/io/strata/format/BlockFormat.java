package io.strata.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Constants of WAL block format versions 1 and 2 (docs/block-format.md); the writer writes version 2, the
 * reader reads both. A released version never changes: a new
 * layout gets a new version number and a golden-bytes test of its own.
 *
 * <pre>
 * block   = header chunk* footer trailer
 * header  = magic "STRB" (4) + version (1) + reserved zero (3)                          = 8
 * chunk   = one zstd frame of a partition's chunk payload
 * footer  = entry count (4) + ChunkEntry (52) * count
 * trailer = footer offset (8) + footer length (4) + footer crc32c (4)
 *           + version (1) + reserved zero (3) + magic "STRB" (4)                          = 24
 * </pre>
 * All integers are big-endian.
 */
public final class BlockFormat {
    public static final int MAGIC = 0x53545242; // "STRB"
    public static final byte VERSION_1 = 1;
    /** Chunks are sequences of record batches ({@link BatchCodec}); written since the idempotent, batching client. */
    public static final byte VERSION_2 = 2;
    /**
     * A segment (docs/block-format.md, "Segments"): one partition's chunks merged by compaction, whose
     * footer entries also carry each chunk's base offset and offset count ({@link SegmentChunk}).
     */
    public static final byte VERSION_3 = 3;
    public static final int HEADER_SIZE = 4 /* magic */ + 1 /* version */ + 3 /* reserved */; // = 8
    public static final int TRAILER_SIZE = 8 /* footer offset */ + 4 /* footer length */ + 4 /* footer crc */
            + 1 /* version */ + 3 /* reserved */ + 4 /* magic */; // = 24
    /** Bounds what a reader allocates for one chunk, whatever a corrupt entry claims. */
    public static final int MAX_UNCOMPRESSED_CHUNK = 256 * 1024 * 1024;

    private BlockFormat() {
    }

    public static int crc32c(ByteBuffer bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate());
        return (int) crc.getValue();
    }

    /**
     * A buffer for an object of {@code bodyBytes} (header and chunks) plus its footer and trailer, with the
     * header of {@code version} written: the layout blocks and segments share.
     */
    static ByteBuffer startObject(String what, long bodyBytes, int footerLength, byte version) {
        long total = bodyBytes + footerLength + TRAILER_SIZE;
        if (total > Integer.MAX_VALUE) {
            throw new IllegalStateException(what + " of " + total + " bytes exceeds 2 GiB");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total).order(java.nio.ByteOrder.BIG_ENDIAN);
        out.putInt(MAGIC).put(version).put(new byte[3]);
        return out;
    }

    /** Writes the trailer after the footer that started at {@code footerStart} and ends at the position; flips. */
    static void finishObject(ByteBuffer out, int footerStart, byte version) {
        int footerLength = out.position() - footerStart;
        int footerCrc = crc32c(out.duplicate().position(footerStart).limit(out.position()));
        out.putLong(footerStart).putInt(footerLength).putInt(footerCrc).put(version).put(new byte[3]).putInt(MAGIC);
        out.flip();
    }

    static ByteBuffer bigEndian(ByteBuffer buffer) {
        return buffer.duplicate().order(ByteOrder.BIG_ENDIAN);
    }
}
