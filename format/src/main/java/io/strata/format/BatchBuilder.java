package io.strata.format;

import java.nio.ByteBuffer;

/**
 * Builds one record batch (docs/block-format.md, "Record batch"): records are encoded as they are added,
 * and compressed into one zstd frame by {@link #build}. The Java client builds its batches with it, so a
 * node stores them without compressing again; a node builds batches for records sent to it one by one.
 *
 * <p>Not thread-safe: one owner appends, then builds once. With a {@link ByteArrayPool}, the record buffer
 * goes back to the pool when the batch is built, and the built batch's array is the pool's too: its owner
 * gives it back ({@link #release}) once nothing reads it any more.
 */
public final class BatchBuilder {
    private final ByteArrayPool pool;
    private final GrowableBytes records;
    private long baseTimestampMs;
    private long minTimestampMs = Long.MAX_VALUE;
    private long maxTimestampMs = Long.MIN_VALUE;
    private int count;
    /** For an offset batch (key compaction): the first record's offset, and the last one's; -1 otherwise. */
    private long baseOffset = -1;
    private long lastOffset = -1;
    /** The array of the built batch, until released. */
    private byte[] built;
    private boolean spent;

    public BatchBuilder() {
        this(1024);
    }

    /** A builder whose buffer starts at {@code expectedBytes} (the batch size its owner aims for). */
    public BatchBuilder(int expectedBytes) {
        this(expectedBytes, ByteArrayPool.NONE);
    }

    /** A builder whose buffers come from {@code pool}. */
    public BatchBuilder(int expectedBytes, ByteArrayPool pool) {
        this.pool = pool;
        records = new GrowableBytes(expectedBytes, pool);
    }

    /** Adds a record and answers the bytes its encoding took (before compression). */
    public int append(LogRecord record) {
        if (baseOffset >= 0) {
            throw new IllegalStateException("an offset batch takes records with their offsets");
        }
        return add(record, -1);
    }

    /**
     * Adds a record that keeps {@code offset} (strictly above the previous record's), making this an offset
     * batch: key compaction writes one for records whose neighbours were compacted away.
     */
    public int append(LogRecord record, long offset) {
        if (count > 0 && baseOffset < 0) {
            throw new IllegalStateException("an ordinary batch takes records without offsets");
        }
        if (offset < 0 || (count > 0 && offset <= lastOffset)) {
            throw new IllegalArgumentException("offset " + offset + " does not follow " + lastOffset);
        }
        if (count == 0) {
            baseOffset = offset;
        }
        lastOffset = offset;
        return add(record, offset - baseOffset);
    }

    private int add(LogRecord record, long offsetDelta) {
        if (spent) {
            throw new IllegalStateException("the batch was built or released already");
        }
        if (record.timestampMs() < 0) {
            throw new IllegalArgumentException("negative timestamp " + record.timestampMs());
        }
        if (count == 0) {
            baseTimestampMs = record.timestampMs();
        }
        int before = records.size();
        ChunkCodec.appendRecord(records, record, baseTimestampMs, offsetDelta);
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

    /**
     * The batch, header and compressed frame, from position to limit. Builds once: the record buffer is
     * released. A plain view its readers must never write, not a read-only one: protobuf's
     * {@code unsafeWrap} cannot see the array behind a read-only heap buffer and would copy every batch a
     * producer sends.
     */
    public ByteBuffer build(int compressionLevel) {
        if (count == 0) {
            throw new IllegalStateException("an empty batch");
        }
        if (spent) {
            throw new IllegalStateException("the batch was built or released already");
        }
        spent = true;
        ByteBuffer batch = baseOffset >= 0
                ? BatchCodec.buildWithOffsets(records.array(), records.size(), count, baseTimestampMs, minTimestampMs,
                maxTimestampMs, baseOffset, Math.toIntExact(lastOffset - baseOffset + 1), compressionLevel, pool)
                : BatchCodec.build(records.array(), records.size(), count, baseTimestampMs, minTimestampMs,
                maxTimestampMs, compressionLevel, pool);
        records.release();
        built = batch.array();
        return batch;
    }

    /**
     * Gives the built batch's array back to the pool, after which the buffer {@link #build} answered may be
     * overwritten at any time: call it once nothing reads that buffer any more. Releases the record buffer
     * too if the batch was never built.
     */
    public void release() {
        spent = true;
        records.release();
        if (built != null) {
            pool.give(built);
            built = null;
        }
    }
}
