package io.strata.metadata;

import java.util.HashSet;
import java.util.List;

/**
 * An uploaded block to commit: its object key and its chunks, at most one per partition, and the transactions of
 * its batches whose commit is stored with them ({@link OneWriteTransaction}).
 */
public record BlockCommit(String objectKey, long objectSizeBytes, List<BlockChunk> chunks,
                          List<OneWriteTransaction> transactions) {
    public BlockCommit(String objectKey, long objectSizeBytes, List<BlockChunk> chunks) {
        this(objectKey, objectSizeBytes, chunks, List.of());
    }

    public BlockCommit {
        if (objectKey == null || objectKey.isEmpty() || objectSizeBytes <= 0 || chunks == null || chunks.isEmpty()) {
            throw new IllegalArgumentException("invalid block commit for " + objectKey);
        }
        chunks = List.copyOf(chunks);
        transactions = List.copyOf(transactions);
        var seen = new HashSet<PartitionId>();
        for (BlockChunk c : chunks) {
            if (!seen.add(c.partition())) {
                throw new IllegalArgumentException("two chunks for " + c.partition() + " in " + objectKey);
            }
        }
    }
}
