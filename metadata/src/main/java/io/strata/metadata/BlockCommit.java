package io.strata.metadata;

import java.util.HashSet;
import java.util.List;

/** An uploaded block to commit: its object key and its chunks, at most one per partition. */
public record BlockCommit(String objectKey, long objectSizeBytes, List<BlockChunk> chunks) {
    public BlockCommit {
        if (objectKey == null || objectKey.isEmpty() || objectSizeBytes <= 0 || chunks == null || chunks.isEmpty()) {
            throw new IllegalArgumentException("invalid block commit for " + objectKey);
        }
        chunks = List.copyOf(chunks);
        var seen = new HashSet<PartitionId>();
        for (BlockChunk c : chunks) {
            if (!seen.add(c.partition())) {
                throw new IllegalArgumentException("two chunks for " + c.partition() + " in " + objectKey);
            }
        }
    }
}
