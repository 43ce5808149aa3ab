package io.strata.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The record batch, the unit a version-2 chunk is made of (docs/block-format.md):
 * <pre>
 * batch  = magic "SBAT" (4) + frame length (4) + record count (4) + uncompressed length (4)
 *          + base timestamp (8) + min timestamp (8) + max timestamp (8) + CRC32C (4)                = 44
 *          + frame: one zstd frame that inflates to record*
 * record = body length (varint) + body          (the body as in version 1, timestamp relative to base)
 * </pre>
 * The CRC32C covers the header's first 40 bytes and the frame. The base timestamp is the first record's,
 * and min and max are the records' own bounds.
 * Every check is strict: a batch that passes {@link #validate} decodes to exactly the records its header
 * counts, each within the size limit; anything else raises {@link BlockFormatException}. Stateless and
 * thread-safe.
 */
public final class BatchCodec {
    public static final int MAGIC = 0x53424154; // "SBAT"
    public static final int HEADER_SIZE = 4 /* magic */ + 4 /* frame length */ + 4 /* record count */
            + 4 /* uncompressed length */ + 8 /* base ts */ + 8 /* min ts */ + 8 /* max ts */ + 4 /* crc32c */; // = 44

    private BatchCodec() {
    }

    /**
     * Compresses {@code records[0, length)} into a new batch, in an array from {@code pool}: the frame is
     * written straight after the header's place, so the batch needs one array (answered with its length; the
     * rest is slack).
     */
    static ByteBuffer build(byte[] records, int length, int count, long base, long min, long max, int level,
                            ByteArrayPool pool) {
        byte[] out = pool.take(maxBuiltSize(length));
        int frameLength = Zstds.compress(out, HEADER_SIZE, records, length, level);
        ByteBuffer header = ByteBuffer.wrap(out).order(ByteOrder.BIG_ENDIAN);
        header.putInt(MAGIC).putInt(frameLength).putInt(count).putInt(length).putLong(base).putLong(min).putLong(max);
        header.putInt(HEADER_SIZE - 4, crcOf(out, 0));
        return ByteBuffer.wrap(out, 0, HEADER_SIZE + frameLength).slice();
    }

    /** The most bytes a batch of {@code length} encoded record bytes can take once built. */
    public static int maxBuiltSize(int length) {
        return HEADER_SIZE + Zstds.bound(length);
    }

    /** CRC32C of a batch's header without its CRC field, and its frame. */
    private static int crcOf(byte[] batch, int offset) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(batch, offset, HEADER_SIZE - 4);
        int frameLength = ByteBuffer.wrap(batch, offset + 4, 4).getInt();
        crc.update(batch, offset + HEADER_SIZE, frameLength);
        return (int) crc.getValue();
    }

    /** Whether {@code bytes} (from its position) start with a batch rather than a version-1 chunk's frame. */
    static boolean startsWithBatch(ByteBuffer bytes) {
        return bytes.remaining() >= 4 && bytes.duplicate().order(ByteOrder.BIG_ENDIAN).getInt(bytes.position()) == MAGIC;
    }

    private record Header(int frameLength, int count, int uncompressedLength, long base, long min, long max, int crc,
                          int start) {
    }

    /** Reads and bounds-checks the header at {@code in}'s position, leaving the position after it. */
    private static Header header(ByteBuffer in) {
        if (in.remaining() < HEADER_SIZE) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED,
                    "batch header needs " + HEADER_SIZE + " bytes, " + in.remaining() + " left");
        }
        int start = in.position();
        if (in.getInt() != MAGIC) {
            throw new BlockFormatException(BlockFormatException.Reason.FOREIGN, "no batch magic");
        }
        Header h = new Header(in.getInt(), in.getInt(), in.getInt(), in.getLong(), in.getLong(), in.getLong(),
                in.getInt(), start);
        if (h.frameLength <= 0 || h.frameLength > in.remaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED,
                    "batch frame of " + h.frameLength + " bytes, " + in.remaining() + " left");
        }
        if (h.count <= 0 || h.uncompressedLength < h.count || h.uncompressedLength > BlockFormat.MAX_UNCOMPRESSED_CHUNK
                || h.min < 0 || h.min > h.max) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "batch header: count " + h.count
                    + ", uncompressed length " + h.uncompressedLength + ", timestamps " + h.min + ".." + h.max);
        }
        return h;
    }

    private static ByteBuffer inflate(ByteBuffer in, Header h) {
        ByteBuffer frame = in.slice().limit(h.frameLength);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(in.duplicate().position(h.start).limit(h.start + HEADER_SIZE - 4));
        crc.update(frame.duplicate());
        if ((int) crc.getValue() != h.crc) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, String.format(
                    "batch CRC32C %08x does not match %08x", (int) crc.getValue(), h.crc));
        }
        in.position(in.position() + h.frameLength);
        return ChunkCodec.inflateToScratch(frame, h.uncompressedLength);
    }

    /** The header of a batch this process built (not checked beyond its bounds). */
    static BatchInfo headerInfo(ByteBuffer batch) {
        ByteBuffer in = batch.duplicate().order(ByteOrder.BIG_ENDIAN);
        int size = in.remaining();
        Header h = header(in);
        return new BatchInfo(h.count, h.uncompressedLength, h.min, h.max, size);
    }

    /**
     * Checks a whole batch as a producer sent it: exactly one batch, its CRC32C, that it inflates, that it
     * holds the counted records each at most {@code maxRecordBytes} (key, value and headers), with
     * timestamps within the header's bounds. Decodes nothing into objects.
     */
    public static BatchInfo validate(ByteBuffer batch, int maxRecordBytes) {
        ByteBuffer in = batch.duplicate().order(ByteOrder.BIG_ENDIAN);
        int size = in.remaining();
        Header h = header(in);
        ByteBuffer payload = inflate(in, h);
        if (in.hasRemaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                    in.remaining() + " stray bytes after the batch");
        }
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < h.count; i++) {
            int bodyLength = VarInts.readLength(payload, "record body");
            ByteBuffer body = payload.slice().limit(bodyLength);
            payload.position(payload.position() + bodyLength);
            long delta = VarInts.readZigZag(body);
            if (i == 0 && delta != 0) {
                throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                        "the base timestamp is not the first record's");
            }
            long timestamp = h.base + delta;
            if (timestamp < 0) {
                throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                        "record " + i + " has a negative timestamp");
            }
            min = Math.min(min, timestamp);
            max = Math.max(max, timestamp);
            long recordBytes = ChunkCodec.skipBody(body);
            if (recordBytes > maxRecordBytes) {
                throw new IllegalArgumentException("record " + i + " of the batch is " + recordBytes
                        + " bytes, over the limit of " + maxRecordBytes);
            }
        }
        if (payload.hasRemaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                    payload.remaining() + " stray bytes after the batch's last record");
        }
        if (min != h.min || max != h.max) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "records' timestamps span "
                    + min + ".." + max + ", the header says " + h.min + ".." + h.max);
        }
        return new BatchInfo(h.count, h.uncompressedLength, h.min, h.max, size);
    }

    /** How many records the batches of a chunk held, and how many bytes they inflated to. */
    record Decoded(int records, long inflated) {
    }

    /** Decodes every batch in {@code in} (from its position to its limit), handing each record to {@code visitor}. */
    static Decoded decodeAll(ByteBuffer in, ChunkCodec.RecordVisitor visitor) {
        ByteBuffer bytes = in.duplicate().order(ByteOrder.BIG_ENDIAN);
        long inflated = 0;
        int position = 0;
        while (bytes.hasRemaining()) {
            Header h = header(bytes);
            ByteBuffer payload = inflate(bytes, h);
            inflated += h.uncompressedLength;
            for (int i = 0; i < h.count; i++) {
                ChunkCodec.decodeRecord(payload, h.base, position++, visitor);
            }
            if (payload.hasRemaining()) {
                throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                        payload.remaining() + " stray bytes after a batch's last record");
            }
        }
        return new Decoded(position, inflated);
    }

    /** The records of one batch. */
    public static List<LogRecord> decode(ByteBuffer batch) {
        List<LogRecord> records = new ArrayList<>();
        decodeAll(batch, (position, timestampMs, key, value, headers) ->
                records.add(new LogRecord(key, value, headers, timestampMs)));
        return records;
    }
}
