package io.strata.format;

import java.nio.ByteBuffer;
import java.util.List;

/** A block ready to upload: its bytes and its chunks in footer order. */
public record SealedBlock(ByteBuffer bytes, List<ChunkEntry> chunks, long uncompressedBytes) {
    public SealedBlock {
        bytes = bytes.asReadOnlyBuffer();
        chunks = List.copyOf(chunks);
    }

    public int sizeBytes() {
        return bytes.remaining();
    }
}
