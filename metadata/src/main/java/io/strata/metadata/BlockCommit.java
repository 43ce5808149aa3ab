package io.strata.metadata;

import java.util.HashSet;
import java.util.List;

/**
 * An uploaded block to commit: its object key and its chunks, at most one per partition, the transactions of
 * its batches whose commit is stored with them ({@link OneWriteTransaction}), and when its upload was answered
 * (wall clock, milliseconds): a block older than {@link ShardCommitter#MAX_COMMIT_AGE} is not committed, since
 * the garbage collector may have taken its object.
 */
public record BlockCommit(String objectKey, long objectSizeBytes, List<BlockChunk> chunks,
                          List<OneWriteTransaction> transactions, long uploadedAtMs) {
    public BlockCommit(String objectKey, long objectSizeBytes, List<BlockChunk> chunks) {
        this(objectKey, objectSizeBytes, chunks, List.of());
    }

    /** Uploaded just now. */
    public BlockCommit(String objectKey, long objectSizeBytes, List<BlockChunk> chunks,
                       List<OneWriteTransaction> transactions) {
        this(objectKey, objectSizeBytes, chunks, transactions, System.currentTimeMillis());
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
