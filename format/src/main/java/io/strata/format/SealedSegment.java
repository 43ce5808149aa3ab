package io.strata.format;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * A segment ready to upload: its bytes, its chunks in offset order, and where its footer is, so that a
 * reader who knows the footer's place, length and CRC32C (the index entry says them) reads the chunk list
 * with one checked ranged GET. The bytes are never written after sealing.
 */
public record SealedSegment(ByteBuffer bytes, List<SegmentChunk> chunks, long footerOffset, int footerLength,
                            int footerCrc32c) {
    public SealedSegment {
        bytes = bytes.duplicate();
        chunks = List.copyOf(chunks);
    }

    public int sizeBytes() {
        return bytes.remaining();
    }

    public long baseOffset() {
        return chunks.get(0).baseOffset();
    }

    public long endOffset() {
        return chunks.get(chunks.size() - 1).endOffset();
    }
}
