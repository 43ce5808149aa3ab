package io.strata.metadata;

import java.util.List;

/**
 * The index entry of one (shard, block): the chunks of that block whose partitions map to the shard.
 * {@code sequence} orders a shard's entries in commit order (so offsets ascend with it per partition).
 */
public record IndexEntry(int shard, long sequence, String objectKey, long committedAtMs, List<ChunkRef> chunks) {
    public IndexEntry {
        if (shard < 0 || sequence < 0 || objectKey == null || chunks == null || chunks.isEmpty()) {
            throw new IllegalArgumentException("invalid index entry " + shard + "/" + sequence);
        }
        chunks = List.copyOf(chunks);
    }
}
