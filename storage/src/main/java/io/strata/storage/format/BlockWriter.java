package io.strata.storage.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Builds one WAL block holding records of any number of partitions. Records of one partition keep the
 * order they were appended in; {@link #seal()} writes one zstd chunk per partition (partitions in
 * (topic id, partition) order, so equal input gives equal bytes) and the footer.
 *
 * <p>Not thread-safe: the ingest node's open block serializes appends.
 */
public final class BlockWriter {
    private final int compressionLevel;
    private final TreeMap<Long, TreeMap<Integer, PartitionBuffer>> partitions = new TreeMap<>();
    private final GrowableBytes scratch = new GrowableBytes(256);
    private long uncompressedBytes;
    private int recordCount;
    private boolean sealed;

    public BlockWriter(int compressionLevel) {
        this.compressionLevel = compressionLevel;
    }

    /**
     * Appends a record to the partition's chunk and answers its position in that chunk (0 for the first),
     * which becomes its offset minus the chunk's base offset once the block is committed.
     */
    public int append(long topicId, int partition, LogRecord record) {
        if (sealed) {
            throw new IllegalStateException("block already sealed");
        }
        PartitionBuffer buffer = partitions.computeIfAbsent(topicId, t -> new TreeMap<>())
                .computeIfAbsent(partition, p -> new PartitionBuffer(topicId, p, record.timestampMs()));
        int before = buffer.data.size();
        ChunkCodec.appendRecord(buffer.data, scratch, record, buffer.baseTimestampMs);
        buffer.minTimestampMs = Math.min(buffer.minTimestampMs, record.timestampMs());
        buffer.maxTimestampMs = Math.max(buffer.maxTimestampMs, record.timestampMs());
        uncompressedBytes += buffer.data.size() - before;
        recordCount++;
        return buffer.count++;
    }

    public boolean isEmpty() {
        return recordCount == 0;
    }

    public int recordCount() {
        return recordCount;
    }

    /** Payload bytes appended so far, before compression. */
    public long uncompressedBytes() {
        return uncompressedBytes;
    }

    /** Compresses every partition's chunk and lays out the block. The writer cannot be used afterwards. */
    public SealedBlock seal() {
        if (recordCount == 0) {
            throw new IllegalStateException("cannot seal an empty block");
        }
        sealed = true;
        List<byte[]> compressed = new ArrayList<>();
        List<ChunkEntry> entries = new ArrayList<>();
        long position = BlockFormat.HEADER_SIZE;
        for (TreeMap<Integer, PartitionBuffer> topic : partitions.values()) {
            for (PartitionBuffer buffer : topic.values()) {
                GrowableBytes payload = ChunkCodec.payloadHeader(buffer.count, buffer.baseTimestampMs);
                payload.write(buffer.data);
                byte[] chunk = ChunkCodec.compress(payload.array(), payload.size(), compressionLevel);
                int crc = BlockFormat.crc32c(ByteBuffer.wrap(chunk));
                entries.add(new ChunkEntry(buffer.topicId, buffer.partition, position, chunk.length, payload.size(),
                        buffer.count, buffer.minTimestampMs, buffer.maxTimestampMs, crc));
                compressed.add(chunk);
                position += chunk.length;
                buffer.data = null; // let the uncompressed bytes go before the block is uploaded
            }
        }
        int footerLength = 4 + entries.size() * ChunkEntry.ENCODED_SIZE;
        long total = position + footerLength + BlockFormat.TRAILER_SIZE;
        if (total > Integer.MAX_VALUE) {
            throw new IllegalStateException("block of " + total + " bytes exceeds 2 GiB");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.BIG_ENDIAN);
        out.putInt(BlockFormat.MAGIC).put(BlockFormat.VERSION_1).put(new byte[3]);
        for (byte[] chunk : compressed) {
            out.put(chunk);
        }
        int footerStart = out.position();
        out.putInt(entries.size());
        for (ChunkEntry e : entries) {
            out.putLong(e.topicId()).putInt(e.partition()).putLong(e.byteOffset()).putInt(e.byteLength())
                    .putInt(e.uncompressedLength()).putInt(e.recordCount()).putLong(e.minTimestampMs())
                    .putLong(e.maxTimestampMs()).putInt(e.crc32c());
        }
        int footerCrc = BlockFormat.crc32c(out.duplicate().position(footerStart).limit(out.position()));
        out.putLong(footerStart).putInt(footerLength).putInt(footerCrc)
                .put(BlockFormat.VERSION_1).put(new byte[3]).putInt(BlockFormat.MAGIC);
        out.flip();
        return new SealedBlock(out, entries, uncompressedBytes);
    }

    private static final class PartitionBuffer {
        final long topicId;
        final int partition;
        final long baseTimestampMs;
        GrowableBytes data = new GrowableBytes(1024);
        int count;
        long minTimestampMs = Long.MAX_VALUE;
        long maxTimestampMs = Long.MIN_VALUE;

        PartitionBuffer(long topicId, int partition, long baseTimestampMs) {
            this.topicId = topicId;
            this.partition = partition;
            this.baseTimestampMs = baseTimestampMs;
        }
    }
}
