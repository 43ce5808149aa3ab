package io.strata.format;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * A block ready to upload: its bytes and its chunks in footer order. The bytes are shared by the upload and
 * the tail hand-off, and never written after sealing. They are not wrapped read-only: a read-only heap
 * buffer hides its array, and protobuf and the cache would then copy every chunk they pass on.
 */
public record SealedBlock(ByteBuffer bytes, List<ChunkEntry> chunks, long uncompressedBytes) {
    public SealedBlock {
        bytes = bytes.duplicate();
        chunks = List.copyOf(chunks);
    }

    public int sizeBytes() {
        return bytes.remaining();
    }
}
