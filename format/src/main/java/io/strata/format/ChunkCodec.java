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
        verify(compressed, expectedCrc32c);
        if (BatchCodec.startsWithBatch(compressed)) {
            List<LogRecord> records = new ArrayList<>(Math.min(expectedRecordCount, 1 << 16));
            long inflated = BatchCodec.decodeAll(compressed, records);
            if (records.size() != expectedRecordCount || inflated != uncompressedLength) {
                throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "chunk holds "
                        + records.size() + " records in " + inflated + " bytes, index says " + expectedRecordCount
                        + " in " + uncompressedLength);
            }
            return records;
        }
        if (uncompressedLength < 0 || uncompressedLength > BlockFormat.MAX_UNCOMPRESSED_CHUNK) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT,
                    "uncompressed length " + uncompressedLength + " out of bounds");
        }
        return decodePayload(inflateToScratch(compressed, uncompressedLength), expectedRecordCount);
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

    private static List<LogRecord> decodePayload(ByteBuffer in, int expectedRecordCount) {
        long count = VarInts.readUnsigned(in);
        if (count != expectedRecordCount) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                    "chunk holds " + count + " records, index says " + expectedRecordCount);
        }
        if (in.remaining() < 8) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED, "chunk payload header");
        }
        long base = in.getLong();
        List<LogRecord> records = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            int bodyLength = VarInts.readLength(in, "record body");
            ByteBuffer body = in.slice();
            body.limit(bodyLength);
            in.position(in.position() + bodyLength);
            records.add(decodeBody(body, base));
        }
        if (in.hasRemaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                    in.remaining() + " stray bytes after the last record");
        }
        return records;
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

    static LogRecord decodeBody(ByteBuffer body, long base) {
        long timestamp = base + VarInts.readZigZag(body);
        long keyLength = VarInts.readZigZag(body);
        byte[] key = null;
        if (keyLength >= 0) {
            if (keyLength > body.remaining()) {
                throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "key length " + keyLength);
            }
            key = new byte[(int) keyLength];
            body.get(key);
        } else if (keyLength != -1) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "key length " + keyLength);
        }
        byte[] value = new byte[VarInts.readLength(body, "value")];
        body.get(value);
        long headerCount = VarInts.readUnsigned(body);
        if (headerCount > body.remaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "header count " + headerCount);
        }
        List<RecordHeader> headers = new ArrayList<>((int) headerCount);
        for (int h = 0; h < headerCount; h++) {
            byte[] name = new byte[VarInts.readLength(body, "header name")];
            body.get(name);
            byte[] headerValue = new byte[VarInts.readLength(body, "header value")];
            body.get(headerValue);
            headers.add(new RecordHeader(new String(name, StandardCharsets.UTF_8), headerValue));
        }
        if (body.hasRemaining()) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                    body.remaining() + " stray bytes in a record body");
        }
        return new LogRecord(key, value, headers, timestamp);
    }
}
