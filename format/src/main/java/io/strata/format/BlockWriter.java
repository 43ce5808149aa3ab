package io.strata.format;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Builds one WAL block (format version 2) holding records of any number of partitions. A partition's
 * chunk is the sequence of its record batches in append order: batches that producers built and
 * compressed themselves ({@link #appendBatch}) are stored as they came; records appended one by one
 * ({@link #append}) are gathered into a batch of the node's own, compressed at {@link #seal()}.
 * Partitions are laid out in (topic id, partition) order, so equal input gives equal bytes.
 *
 * <p>Not thread-safe: the ingest node's open block serializes appends.
 */
public final class BlockWriter {
    private final int compressionLevel;
    private final TreeMap<Long, TreeMap<Integer, PartitionChunk>> partitions = new TreeMap<>();
    private long bufferedBytes;
    private long uncompressedBytes;
    private int recordCount;
    private boolean sealed;

    public BlockWriter(int compressionLevel) {
        this.compressionLevel = compressionLevel;
    }

    private PartitionChunk chunk(long topicId, int partition) {
        if (sealed) {
            throw new IllegalStateException("block already sealed");
        }
        return partitions.computeIfAbsent(topicId, t -> new TreeMap<>())
                .computeIfAbsent(partition, p -> new PartitionChunk(topicId, p));
    }

    /**
     * Appends a record to the partition's chunk and answers its position in that chunk (0 for the first),
     * which becomes its offset minus the chunk's base offset once the block is committed.
     */
    public int append(long topicId, int partition, LogRecord record) {
        PartitionChunk chunk = chunk(topicId, partition);
        if (chunk.open == null) {
            chunk.open = new BatchBuilder();
            chunk.parts.add(chunk.open);
        }
        int appended = chunk.open.append(record);
        bufferedBytes += appended;
        uncompressedBytes += appended;
        recordCount++;
        return chunk.count++;
    }

    /**
     * Appends a producer's batch, already checked with {@link BatchCodec#validate} (whose answer is
     * {@code info}), and answers the position of its first record.
     */
    public int appendBatch(long topicId, int partition, ByteBuffer batch, BatchInfo info) {
        PartitionChunk chunk = chunk(topicId, partition);
        chunk.open = null; // records appended after this batch start a batch of their own
        chunk.parts.add(batch.asReadOnlyBuffer());
        chunk.minTimestampMs = Math.min(chunk.minTimestampMs, info.minTimestampMs());
        chunk.maxTimestampMs = Math.max(chunk.maxTimestampMs, info.maxTimestampMs());
        chunk.uncompressedBytes += info.uncompressedLength();
        bufferedBytes += info.sizeBytes();
        uncompressedBytes += info.uncompressedLength();
        recordCount += info.recordCount();
        int first = chunk.count;
        chunk.count += info.recordCount();
        return first;
    }

    public boolean isEmpty() {
        return recordCount == 0;
    }

    public int recordCount() {
        return recordCount;
    }

    /** Bytes held: producers' batches as stored plus records appended one by one, before compression. */
    public long bufferedBytes() {
        return bufferedBytes;
    }

    /**
     * Bytes the block's records take inflated (the bound of {@link BlockFormat#MAX_UNCOMPRESSED_CHUNK} applies
     * to each chunk, so to this only through its largest chunk), not counting the few bytes framing the
     * node's own batches.
     */
    public long uncompressedBytes() {
        return uncompressedBytes;
    }

    /**
     * Compresses what was appended record by record and lays out the block, copying every batch once, into
     * place. The writer cannot be used afterwards.
     */
    public SealedBlock seal() {
        if (recordCount == 0) {
            throw new IllegalStateException("cannot seal an empty block");
        }
        sealed = true;
        List<PartitionChunk> chunks = new ArrayList<>();
        long size = BlockFormat.HEADER_SIZE;
        for (TreeMap<Integer, PartitionChunk> topic : partitions.values()) {
            for (PartitionChunk chunk : topic.values()) {
                size += chunk.finish(compressionLevel);
                if (chunk.uncompressedBytes > BlockFormat.MAX_UNCOMPRESSED_CHUNK) {
                    throw new IllegalStateException("chunk of " + chunk.topicId + "/" + chunk.partition + " inflates to "
                            + chunk.uncompressedBytes + " bytes, over " + BlockFormat.MAX_UNCOMPRESSED_CHUNK);
                }
                chunks.add(chunk);
            }
        }
        ByteBuffer out = BlockFormat.startObject("block", size, 4 + chunks.size() * ChunkEntry.ENCODED_SIZE,
                BlockFormat.VERSION_2);
        List<ChunkEntry> entries = new ArrayList<>(chunks.size());
        long uncompressedTotal = 0;
        for (PartitionChunk chunk : chunks) {
            int start = out.position();
            for (ByteBuffer batch : chunk.batches) {
                out.put(batch.duplicate());
            }
            chunk.batches.clear(); // let the batches go before the block is uploaded
            int crc = BlockFormat.crc32c(out.duplicate().position(start).limit(out.position()));
            entries.add(new ChunkEntry(chunk.topicId, chunk.partition, start, out.position() - start,
                    (int) chunk.uncompressedBytes, chunk.count, chunk.minTimestampMs, chunk.maxTimestampMs, crc));
            uncompressedTotal += chunk.uncompressedBytes;
        }
        int footerStart = out.position();
        out.putInt(entries.size());
        for (ChunkEntry e : entries) {
            out.putLong(e.topicId()).putInt(e.partition()).putLong(e.byteOffset()).putInt(e.byteLength())
                    .putInt(e.uncompressedLength()).putInt(e.recordCount()).putLong(e.minTimestampMs())
                    .putLong(e.maxTimestampMs()).putInt(e.crc32c());
        }
        BlockFormat.finishObject(out, footerStart, BlockFormat.VERSION_2);
        return new SealedBlock(out, entries, uncompressedTotal);
    }

    /** One partition's batches in append order: producers' (ByteBuffer) and the node's own (BatchBuilder). */
    private static final class PartitionChunk {
        final long topicId;
        final int partition;
        final List<Object> parts = new ArrayList<>();
        final List<ByteBuffer> batches = new ArrayList<>();
        BatchBuilder open;
        int count;
        long uncompressedBytes;
        long minTimestampMs = Long.MAX_VALUE;
        long maxTimestampMs = Long.MIN_VALUE;

        PartitionChunk(long topicId, int partition) {
            this.topicId = topicId;
            this.partition = partition;
        }

        /** Compresses the node's own batches; answers the chunk's size. {@link #batches} then holds it all. */
        long finish(int level) {
            long size = 0;
            for (Object part : parts) {
                ByteBuffer batch;
                if (part instanceof BatchBuilder builder) {
                    batch = builder.build(level);
                    BatchInfo info = BatchCodec.headerInfo(batch);
                    minTimestampMs = Math.min(minTimestampMs, info.minTimestampMs());
                    maxTimestampMs = Math.max(maxTimestampMs, info.maxTimestampMs());
                    uncompressedBytes += info.uncompressedLength();
                } else {
                    batch = (ByteBuffer) part;
                }
                batches.add(batch);
                size += batch.remaining();
            }
            parts.clear(); // let the uncompressed records go
            return size;
        }
    }
}
