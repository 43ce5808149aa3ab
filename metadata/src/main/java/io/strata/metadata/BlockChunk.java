package io.strata.metadata;

import java.util.List;

/**
 * One partition's chunk of an uploaded block, before it has offsets: where it sits in the object and what
 * it holds. The byte range, sizes and CRC32C come from the block's footer; {@code producerBatches} are
 * the idempotent producers' batches among its records, in position order (empty when there are none).
 */
public record BlockChunk(PartitionId partition, int recordCount, long byteOffset, int byteLength,
                         int uncompressedLength, long minTimestampMs, long maxTimestampMs, int crc32c,
                         List<ProducerBatch> producerBatches) {
    public BlockChunk {
        if (partition == null || recordCount <= 0 || byteOffset < 0 || byteLength <= 0 || uncompressedLength < 0
                || minTimestampMs > maxTimestampMs) {
            throw new IllegalArgumentException("invalid chunk of " + partition + " @" + byteOffset);
        }
        producerBatches = List.copyOf(producerBatches);
        int end = 0;
        for (ProducerBatch b : producerBatches) {
            if (b.firstPosition() < end || b.firstPosition() + b.recordCount() > recordCount) {
                throw new IllegalArgumentException("producer batches of " + partition + " overlap or overrun");
            }
            end = b.firstPosition() + b.recordCount();
        }
    }

    /** A chunk with no idempotent producer's records. */
    public BlockChunk(PartitionId partition, int recordCount, long byteOffset, int byteLength, int uncompressedLength,
                      long minTimestampMs, long maxTimestampMs, int crc32c) {
        this(partition, recordCount, byteOffset, byteLength, uncompressedLength, minTimestampMs, maxTimestampMs,
                crc32c, List.of());
    }
}
