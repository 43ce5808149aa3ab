package io.strata.fetch.cache;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The first cache tier: verified chunks in memory, bounded by bytes, least recently used first out
 * ({@link LruByWeight}). What it evicts goes to {@code evicted} (the disk tier), outside its lock, if it was
 * ever read: a chunk handed over for the tail that no consumer asked for is not worth a disk write.
 * Thread-safe.
 */
final class MemoryTier {
    private static final int OVERHEAD = 96;

    private final BiConsumer<ChunkKey, ByteBuffer> evicted;
    private final LruByWeight<ChunkKey, Held> chunks;

    private static final class Held {
        final ByteBuffer bytes;
        volatile boolean read;

        Held(ByteBuffer bytes, boolean read) {
            this.bytes = bytes;
            this.read = read;
        }
    }

    MemoryTier(long maxBytes, BiConsumer<ChunkKey, ByteBuffer> evicted) {
        this.chunks = new LruByWeight<>(maxBytes);
        this.evicted = evicted;
    }

    /** The chunk, marked as just used; null when not held. */
    ByteBuffer get(ChunkKey key) {
        Held held = chunks.get(key);
        if (held == null) {
            return null;
        }
        held.read = true;
        return held.bytes;
    }

    /** Whether the chunk is held; does not count as a read. */
    boolean contains(ChunkKey key) {
        return chunks.contains(key);
    }

    /** {@code read}: whether a reader asked for it already (loaded on demand) or not (handed over). */
    void put(ChunkKey key, ByteBuffer value, boolean read) {
        for (Map.Entry<ChunkKey, Held> out : chunks.put(key, new Held(value, read), value.remaining() + OVERHEAD)) {
            if (out.getValue().read && !out.getKey().equals(key)) { // a replaced copy is not an eviction
                evicted.accept(out.getKey(), out.getValue().bytes);
            }
        }
    }

    long bytes() {
        return chunks.weight();
    }
}
