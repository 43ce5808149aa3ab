package io.strata.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes and decodes one partition's chunk. A version-2 chunk is a sequence of record batches
 * ({@link BatchCodec}); a version-1 chunk is one zstd frame whose payload, before zstd, is
 * <pre>
 * payload = record count (varint) + base timestamp (8, big-endian) + record*
 * record  = body length (varint) + body
 * body    = timestamp - base (zigzag varint) + key length (zigzag varint; -1 = no key) + key
 *           + value length (varint) + value + header count (varint)
 *           + (name length (varint) + name (UTF-8) + value length (varint) + value)*
 * </pre>
 * Decoding is strict: every length is bounds-checked, every body must be consumed exactly, and the record
 * count must match, so corrupt bytes raise {@link BlockFormatException} rather than yield wrong records.
 * Stateless and thread-safe.
 */
public final class ChunkCodec {
    private ChunkCodec() {
    }

    /**
     * Appends one record's encoding (length-prefixed body) to {@code out}. The body's length is computed
     * first, so every field is written once, straight into {@code out}.
     */
    static void appendRecord(GrowableBytes out, LogRecord record, long baseTimestampMs) {
        appendRecord(out, record, baseTimestampMs, -1);
    }

    /** As above, preceded by the record's offset delta (an offset batch's records) unless it is -1. */
    static void appendRecord(GrowableBytes out, LogRecord record, long baseTimestampMs, long offsetDelta) {
        long delta = VarInts.zigZag(record.timestampMs() - baseTimestampMs);
        byte[] key = record.key();
        long keyLength = VarInts.zigZag(key == null ? -1 : key.length);
        byte[] value = record.value();
        int headerCount = record.headers().size();
        byte[][] names = headerCount == 0 ? null : new byte[headerCount][];
        long body = VarInts.size(delta) + VarInts.size(keyLength) + (key == null ? 0 : key.length)
                + VarInts.size(value.length) + value.length + VarInts.size(headerCount);
        for (int h = 0; h < headerCount; h++) {
            RecordHeader header = record.headers().get(h);
            names[h] = header.key().getBytes(StandardCharsets.UTF_8);
            body += VarInts.size(names[h].length) + names[h].length + VarInts.size(header.value().length)
                    + header.value().length;
        }
        if (offsetDelta >= 0) {
            VarInts.writeUnsigned(out, offsetDelta);
        }
        VarInts.writeUnsigned(out, body);
        VarInts.writeUnsigned(out, delta);
        VarInts.writeUnsigned(out, keyLength);
        if (key != null) {
            out.write(key);
        }
        VarInts.writeUnsigned(out, value.length);
        out.write(value);
        VarInts.writeUnsigned(out, headerCount);
        for (int h = 0; h < headerCount; h++) {
            VarInts.writeUnsigned(out, names[h].length);
            out.write(names[h]);
            byte[] headerValue = record.headers().get(h).value();
            VarInts.writeUnsigned(out, headerValue.length);
            out.write(headerValue);
        }
    }

    /**
     * Checks the chunk's CRC32C, inflates it and decodes its records. {@code compressed} holds exactly the
     * chunk's stored bytes (position to limit).
     */
    public static List<LogRecord> decode(ByteBuffer compressed, ChunkEntry entry) {
        return decode(compressed, entry.crc32c(), entry.uncompressedLength(), entry.recordCount());
    }

    public static List<LogRecord> decode(ByteBuffer compressed, int expectedCrc32c, int uncompressedLength,
                                         int expectedRecordCount) {
        List<LogRecord> records = new ArrayList<>(Math.min(expectedRecordCount, 1 << 16));
        decode(compressed, expectedCrc32c, uncompressedLength, expectedRecordCount, 0,
                (position, offsetDelta, timestampMs, key, value, headers) ->
                        records.add(new LogRecord(key, value, headers, timestampMs)));
        return records;
    }

    /**
     * Receives a chunk's stored records in stored order (positions from 0) as they are decoded, each with its
     * offset relative to the chunk's base offset: its position, unless the chunk holds offset batches (a
     * key-compacted segment's), whose records carry their own. Skipped records (an idempotent producer's
     * retries) are not known here: callers map positions through the index's skipped ranges instead.
     */
    @FunctionalInterface
    public interface RecordVisitor {
        void record(int position, long offsetDelta, long timestampMs, byte[] key, byte[] value,
                    List<RecordHeader> headers);
    }

    /**
     * Checks and decodes the chunk like {@link #decode(ByteBuffer, int, int, int)}, handing each record to
     * {@code visitor} instead of building a {@link LogRecord}: a reader with record objects of its own (the
     * client) builds one object per record, not two. The visitor sees records before the rest of the chunk
     * is checked: when this throws {@link BlockFormatException}, drop what it was given.
     */
    public static void decode(ByteBuffer compressed, int expectedCrc32c, int uncompressedLength,
                              int expectedRecordCount, long baseOffset, RecordVisitor visitor) {
        verify(compressed, expectedCrc32c);
        if (BatchCodec.startsWithBatch(compressed)) {
            BatchCodec.Decoded decoded = BatchCodec.decodeAll(compressed, baseOffset, visitor);
            if (decoded.records() != expectedRecordCount || decoded.inflated() != uncompressedLength) {
                throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "chunk holds "
                        + decoded.records() + " records in " + decoded.inflated() + " bytes, index says "
                        + expectedRecordCount + " in " + uncompressedLength);
            }
            return;
        }
        if (uncompressedLength < 0 || uncompressedLength > BlockFormat.MAX_UNCOMPRESSED_CHUNK) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT,
                    "uncompressed length " + uncompressedLength + " out of bounds");
        }
        decodePayload(inflateToScratch(compressed, uncompressedLength), expectedRecordCount, visitor);
    }

    /**
     * Inflates the bytes (position to limit) of one zstd frame to exactly {@code uncompressedLength} bytes,
     * into this thread's scratch array: the answer is valid until the thread inflates again.
     */
    static ByteBuffer inflateToScratch(ByteBuffer frame, int uncompressedLength) {
        if (frame.hasArray()) {
            return Zstds.decompressToScratch(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining(),
                    uncompressedLength).order(ByteOrder.BIG_ENDIAN);
        }
        return Zstds.decompressToScratch(frame, uncompressedLength).order(ByteOrder.BIG_ENDIAN);
    }

    /** Throws {@link BlockFormatException} unless the bytes' CRC32C is {@code expectedCrc32c}. */
    public static void verify(ByteBuffer stored, int expectedCrc32c) {
        int actual = BlockFormat.crc32c(stored);
        if (actual != expectedCrc32c) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, String.format(
                    "chunk CRC32C %08x does not match the expected %08x", actual, expectedCrc32c));
        }
    }

    private static void decodePayload(ByteBuffer in, int expectedRecordCount, RecordVisitor visitor) {
        long count = VarInts.readUnsigned(in);
        if (count != expectedRecordCount) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                    "chunk holds " + count + " records, index says " + expectedRecordCount);
        }
        if (in.remaining() < 8) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED, "chunk payload header");
        }
        long base = in.getLong();
        for (int i = 0; i < count; i++) {
            decodeRecord(in, base, i, i, visitor);
        }
        if (in.hasRemaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                    in.remaining() + " stray bytes after the last record");
        }
    }

    /**
     * Walks the rest of one record body, after its timestamp, without building it, checking every length;
     * answers the record's size as the limits count it (key + value + header names and values).
     */
    static long skipBody(ByteBuffer body) {
        long size = 0;
        long keyLength = VarInts.readZigZag(body);
        if (keyLength >= 0) {
            if (keyLength > body.remaining()) {
                throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "key length " + keyLength);
            }
            body.position(body.position() + (int) keyLength);
            size += keyLength;
        } else if (keyLength != -1) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "key length " + keyLength);
        }
        int valueLength = VarInts.readLength(body, "value");
        body.position(body.position() + valueLength);
        size += valueLength;
        long headerCount = VarInts.readUnsigned(body);
        if (headerCount > body.remaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "header count " + headerCount);
        }
        for (int h = 0; h < headerCount; h++) {
            int nameLength = VarInts.readLength(body, "header name");
            body.position(body.position() + nameLength);
            int headerValueLength = VarInts.readLength(body, "header value");
            body.position(body.position() + headerValueLength);
            size += nameLength + headerValueLength;
        }
        if (body.hasRemaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                    body.remaining() + " stray bytes in a record body");
        }
        return size;
    }

    /**
     * Decodes the length-prefixed record at {@code in}'s position (leaving the position after it) and hands
     * it to {@code visitor}. The body is read in place, within a limit set at its end, so a corrupt length
     * inside it can never reach the next record.
     */
    static void decodeRecord(ByteBuffer in, long base, int position, long offsetDelta, RecordVisitor visitor) {
        int bodyLength = VarInts.readLength(in, "record body");
        int limit = in.limit();
        in.limit(in.position() + bodyLength);
        long timestamp = base + VarInts.readZigZag(in);
        long keyLength = VarInts.readZigZag(in);
        byte[] key = null;
        if (keyLength >= 0) {
            if (keyLength > in.remaining()) {
                throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "key length " + keyLength);
            }
            key = new byte[(int) keyLength];
            in.get(key);
        } else if (keyLength != -1) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "key length " + keyLength);
        }
        byte[] value = new byte[VarInts.readLength(in, "value")];
        in.get(value);
        long headerCount = VarInts.readUnsigned(in);
        if (headerCount > in.remaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "header count " + headerCount);
        }
        List<RecordHeader> headers = headerCount == 0 ? List.of() : new ArrayList<>((int) headerCount);
        for (int h = 0; h < headerCount; h++) {
            byte[] name = new byte[VarInts.readLength(in, "header name")];
            in.get(name);
            byte[] headerValue = new byte[VarInts.readLength(in, "header value")];
            in.get(headerValue);
            headers.add(new RecordHeader(new String(name, StandardCharsets.UTF_8), headerValue));
        }
        if (in.hasRemaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                    in.remaining() + " stray bytes in a record body");
        }
        in.limit(limit);
        visitor.record(position, offsetDelta, timestamp, key, value, headers);
    }
}
