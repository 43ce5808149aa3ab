package io.strata.fetch.index;

import io.strata.metadata.ChunkRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * One partition's committed chunks by base offset. Written by the index view's single watch thread, read
 * by any fetch: the map is concurrent and the bounds are read from it, so a reader sees a consistent prefix.
 */
public final class PartitionIndex {
    private final ConcurrentSkipListMap<Long, ChunkRef> chunks = new ConcurrentSkipListMap<>();

    void add(ChunkRef chunk) {
        chunks.put(chunk.baseOffset(), chunk);
    }

    void remove(ChunkRef chunk) {
        chunks.remove(chunk.baseOffset(), chunk);
    }

    boolean isEmpty() {
        return chunks.isEmpty();
    }

    /** The offset the next committed record will get. */
    public long endOffset() {
        Map.Entry<Long, ChunkRef> last = chunks.lastEntry();
        return last == null ? 0 : last.getValue().endOffset();
    }

    /** The first offset still held. */
    public long logStartOffset() {
        Map.Entry<Long, ChunkRef> first = chunks.firstEntry();
        return first == null ? endOffset() : first.getKey();
    }

    /**
     * The chunks from the one holding {@code offset} on, as many as needed to reach {@code maxBytes} of
     * uncompressed records (at least one).
     */
    public List<ChunkRef> chunksFrom(long offset, long maxBytes) {
        List<ChunkRef> out = new ArrayList<>();
        Map.Entry<Long, ChunkRef> start = chunks.floorEntry(offset);
        if (start == null || start.getValue().endOffset() <= offset) {
            return out;
        }
        long bytes = 0;
        for (ChunkRef chunk : chunks.tailMap(start.getKey(), true).values()) {
            out.add(chunk);
            bytes += chunk.uncompressedLength();
            if (bytes >= maxBytes) {
                break;
            }
        }
        return out;
    }

    /** All chunks in offset order (for timestamp look-ups). */
    public Iterable<ChunkRef> chunks() {
        return chunks.values();
    }
}
