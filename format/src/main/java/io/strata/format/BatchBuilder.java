package io.strata.format;

import java.nio.ByteBuffer;

/**
 * Builds one record batch (docs/block-format.md, "Record batch"): records are encoded as they are added,
 * and compressed into one zstd frame by {@link #build}. The Java client builds its batches with it, so a
 * node stores them without compressing again; a node builds batches for records sent to it one by one.
 *
 * <p>Not thread-safe: one owner appends, then builds once.
 */
public final class BatchBuilder {
    private final GrowableBytes records;
    private long baseTimestampMs;
    private long minTimestampMs = Long.MAX_VALUE;
    private long maxTimestampMs = Long.MIN_VALUE;
    private int count;

    public BatchBuilder() {
        this(1024);
    }

    /** A builder whose buffer starts at {@code expectedBytes} (the batch size its owner aims for). */
    public BatchBuilder(int expectedBytes) {
        records = new GrowableBytes(expectedBytes);
    }

    /** Adds a record and answers the bytes its encoding took (before compression). */
    public int append(LogRecord record) {
        if (record.timestampMs() < 0) {
            throw new IllegalArgumentException("negative timestamp " + record.timestampMs());
        }
        if (count == 0) {
            baseTimestampMs = record.timestampMs();
        }
        int before = records.size();
        ChunkCodec.appendRecord(records, record, baseTimestampMs);
        minTimestampMs = Math.min(minTimestampMs, record.timestampMs());
        maxTimestampMs = Math.max(maxTimestampMs, record.timestampMs());
        count++;
        return records.size() - before;
    }

    public int recordCount() {
        return count;
    }

    /** Encoded bytes so far, before compression. */
    public int uncompressedBytes() {
        return records.size();
    }

    public boolean isEmpty() {
        return count == 0;
    }

    /** The batch, header and compressed frame, from position to limit (a read-only view). */
    public ByteBuffer build(int compressionLevel) {
        if (count == 0) {
            throw new IllegalStateException("an empty batch");
        }
        return BatchCodec.build(records.array(), records.size(), count, baseTimestampMs, minTimestampMs,
                maxTimestampMs, compressionLevel).asReadOnlyBuffer();
    }
}
