package io.strata.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The record batch, the unit a version-2 chunk (and a segment's chunk) is made of (docs/block-format.md):
 * <pre>
 * batch  = magic "SBAT" (4) + frame length (4) + record count (4) + uncompressed length (4)
 *          + base timestamp (8) + min timestamp (8) + max timestamp (8) + CRC32C (4)                = 44
 *          + frame: one zstd frame that inflates to record*
 * record = body length (varint) + body          (the body as in version 1, timestamp relative to base)
 *
 * offset batch (key-compacted segments only)
 *        = magic "SBAO" (4) + frame length (4) + record count (4) + uncompressed length (4)
 *          + base timestamp (8) + min timestamp (8) + max timestamp (8) + base offset (8)
 *          + offset span (4) + CRC32C (4)                                                       = 56
 *          + frame: one zstd frame that inflates to (offset delta (varint) + record)*
 * </pre>
 * The CRC32C covers the header up to its CRC field, and the frame. The base timestamp is the first
 * record's, and min and max are the records' own bounds. The records of an ordinary batch take the offsets
 * after the previous record's; those of an offset batch carry their own (base offset + delta, strictly
 * increasing, the first delta 0 and the last one span - 1), because key compaction removed the records
 * between them. The span in the header lets a reader place a batch without inflating it.
 * Every check is strict: a batch that passes {@link #validate} decodes to exactly the records its header
 * counts, each within the size limit; anything else raises {@link BlockFormatException}. Stateless and
 * thread-safe.
 */
public final class BatchCodec {
    public static final int MAGIC = 0x53424154; // "SBAT"
    public static final int HEADER_SIZE = 4 /* magic */ + 4 /* frame length */ + 4 /* record count */
            + 4 /* uncompressed length */ + 8 /* base ts */ + 8 /* min ts */ + 8 /* max ts */ + 4 /* crc32c */; // = 44
    /** An offset batch: its records carry their offsets (written by key compaction only). */
    public static final int OFFSETS_MAGIC = 0x5342414F; // "SBAO"
    public static final int OFFSETS_HEADER_SIZE = HEADER_SIZE + 8 /* base offset */ + 4 /* offset span */; // = 56

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

    /**
     * Like {@link #build}, an offset batch whose records (encoded with their offset deltas) start at
     * {@code baseOffset}.
     */
    static ByteBuffer buildWithOffsets(byte[] records, int length, int count, long base, long min, long max,
                                       long baseOffset, int offsetSpan, int level, ByteArrayPool pool) {
        byte[] out = pool.take(OFFSETS_HEADER_SIZE + Zstds.bound(length));
        int frameLength = Zstds.compress(out, OFFSETS_HEADER_SIZE, records, length, level);
        ByteBuffer header = ByteBuffer.wrap(out).order(ByteOrder.BIG_ENDIAN);
        header.putInt(OFFSETS_MAGIC).putInt(frameLength).putInt(count).putInt(length).putLong(base).putLong(min)
                .putLong(max).putLong(baseOffset).putInt(offsetSpan);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(out, 0, OFFSETS_HEADER_SIZE - 4);
        crc.update(out, OFFSETS_HEADER_SIZE, frameLength);
        header.putInt(OFFSETS_HEADER_SIZE - 4, (int) crc.getValue());
        return ByteBuffer.wrap(out, 0, OFFSETS_HEADER_SIZE + frameLength).slice();
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
        if (bytes.remaining() < 4) {
            return false;
        }
        int magic = bytes.duplicate().order(ByteOrder.BIG_ENDIAN).getInt(bytes.position());
        return magic == MAGIC || magic == OFFSETS_MAGIC;
    }

    /** {@code baseOffset} is -1 for an ordinary batch, whose records carry no offsets (its span is its count). */
    private record Header(int frameLength, int count, int uncompressedLength, long base, long min, long max,
                          long baseOffset, int offsetSpan, int crc, int start, int size) {
        boolean withOffsets() {
            return baseOffset >= 0;
        }
    }

    /** Reads and bounds-checks the header at {@code in}'s position, leaving the position after it. */
    private static Header header(ByteBuffer in) {
        if (in.remaining() < HEADER_SIZE) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED,
                    "batch header needs " + HEADER_SIZE + " bytes, " + in.remaining() + " left");
        }
        int start = in.position();
        int magic = in.getInt();
        if (magic != MAGIC && magic != OFFSETS_MAGIC) {
            throw new BlockFormatException(BlockFormatException.Reason.FOREIGN, "no batch magic");
        }
        boolean withOffsets = magic == OFFSETS_MAGIC;
        if (withOffsets && in.remaining() < OFFSETS_HEADER_SIZE - 4) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED,
                    "offset batch header needs " + OFFSETS_HEADER_SIZE + " bytes");
        }
        int frameLength = in.getInt();
        int count = in.getInt();
        int uncompressedLength = in.getInt();
        long base = in.getLong();
        long min = in.getLong();
        long max = in.getLong();
        long baseOffset = withOffsets ? in.getLong() : -1;
        int offsetSpan = withOffsets ? in.getInt() : count;
        if (withOffsets && (baseOffset < 0 || offsetSpan < count || baseOffset + offsetSpan < baseOffset)) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "offset batch @" + baseOffset + "+"
                    + offsetSpan + " of " + count + " records");
        }
        Header h = new Header(frameLength, count, uncompressedLength, base, min, max, baseOffset, offsetSpan,
                in.getInt(), start, withOffsets ? OFFSETS_HEADER_SIZE : HEADER_SIZE);
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
        crc.update(in.duplicate().position(h.start).limit(h.start + h.size - 4));
        crc.update(frame.duplicate());
        if ((int) crc.getValue() != h.crc) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, String.format(
                    "batch CRC32C %08x does not match %08x", (int) crc.getValue(), h.crc));
        }
        in.position(in.position() + h.frameLength);
        return ChunkCodec.inflateToScratch(frame, h.uncompressedLength);
    }

    /** What a batch's header says (bounds-checked, the frame neither checked nor inflated). */
    public static BatchInfo headerInfo(ByteBuffer batch) {
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
        if (h.withOffsets()) {
            throw new BlockFormatException(BlockFormatException.Reason.FOREIGN,
                    "an offset batch (SBAO) is written by compaction only, never sent by a producer");
        }
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

    /**
     * Decodes every batch in {@code in} (from its position to its limit), handing each record to {@code visitor}
     * with its offset relative to the chunk's first one: the record after the previous record's for an
     * ordinary batch, its own for an offset batch (relative to {@code chunkBaseOffset}), strictly increasing.
     */
    static Decoded decodeAll(ByteBuffer in, long chunkBaseOffset, ChunkCodec.RecordVisitor visitor) {
        ByteBuffer bytes = in.duplicate().order(ByteOrder.BIG_ENDIAN);
        long inflated = 0;
        int position = 0;
        long next = 0; // the lowest offset delta the next record may have
        while (bytes.hasRemaining()) {
            Header h = header(bytes);
            ByteBuffer payload = inflate(bytes, h);
            inflated += h.uncompressedLength;
            for (int i = 0; i < h.count; i++) {
                long delta = next;
                if (h.withOffsets()) {
                    long inBatch = VarInts.readUnsigned(payload);
                    delta = h.baseOffset + inBatch - chunkBaseOffset;
                    if (delta < next || (i == 0 && inBatch != 0) || inBatch >= h.offsetSpan
                            || (i == h.count - 1 && inBatch != h.offsetSpan - 1)) {
                        throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "record offset "
                                + (chunkBaseOffset + delta) + " is out of order or outside its batch's "
                                + h.baseOffset + "+" + h.offsetSpan);
                    }
                }
                ChunkCodec.decodeRecord(payload, h.base, position++, delta, visitor);
                next = delta + 1;
            }
            if (payload.hasRemaining()) {
                throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                        payload.remaining() + " stray bytes after a batch's last record");
            }
        }
        return new Decoded(position, inflated);
    }

    /**
     * A batch of a chunk: its bytes (a view), how many records it holds, and the offsets it covers: its own
     * for an offset batch ({@code baseOffset} >= 0), otherwise {@code offsetSpan} = {@code recordCount}
     * offsets after the previous batch's.
     */
    public record Part(ByteBuffer bytes, int recordCount, long baseOffset, int offsetSpan) {
        public boolean withOffsets() {
            return baseOffset >= 0;
        }
    }

    /**
     * The batches a version-2 chunk is made of, as views in order, with their record counts; headers are
     * bounds-checked, frames are not inflated (the caller checked the chunk's CRC32C).
     */
    public static List<Part> split(ByteBuffer chunk) {
        ByteBuffer bytes = chunk.duplicate().order(ByteOrder.BIG_ENDIAN);
        List<Part> parts = new ArrayList<>();
        while (bytes.hasRemaining()) {
            int start = bytes.position();
            Header h = header(bytes);
            bytes.position(bytes.position() + h.frameLength);
            // bytes is a duplicate of chunk: the same indices address the same bytes
            parts.add(new Part(chunk.duplicate().limit(bytes.position()).position(start).slice(), h.count,
                    h.baseOffset, h.offsetSpan));
        }
        return parts;
    }

    /** The records of one batch. */
    public static List<LogRecord> decode(ByteBuffer batch) {
        List<LogRecord> records = new ArrayList<>();
        decodeAll(batch, 0, (position, offsetDelta, timestampMs, key, value, headers) ->
                records.add(new LogRecord(key, value, headers, timestampMs)));
        return records;
    }
}
