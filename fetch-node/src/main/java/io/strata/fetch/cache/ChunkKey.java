package io.strata.fetch.cache;

import io.strata.metadata.ChunkRef;

/** Where a chunk's stored bytes are, and the CRC32C they must have: what the caches are keyed by. */
public record ChunkKey(String objectKey, long byteOffset, int byteLength, int crc32c) {
    public static ChunkKey of(ChunkRef ref) {
        return new ChunkKey(ref.objectKey(), ref.byteOffset(), ref.byteLength(), ref.crc32c());
    }

    long end() {
        return byteOffset + byteLength;
    }
}
