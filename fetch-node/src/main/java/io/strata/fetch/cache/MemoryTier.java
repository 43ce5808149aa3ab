package io.strata.fetch.cache;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The first cache tier: verified chunks in memory, bounded by bytes, least recently used first out. Plain
 * LRU on purpose: the read path is dominated by sequential readers (catch-up reads, read-ahead, tail
 * hand-offs), for which the chunk just loaded is the one wanted next, and a frequency-based admission
 * policy would turn freshly prefetched chunks away in favour of chunks the readers have already passed.
 * What it evicts goes to {@code evicted} (the disk tier), outside its lock, if it was ever read: a chunk
 * handed over for the tail that no consumer asked for is not worth a disk write. Thread-safe.
 */
final class MemoryTier {
    private static final int OVERHEAD = 96;

    private final long maxBytes;
    private final BiConsumer<ChunkKey, ByteBuffer> evicted;
    private final LinkedHashMap<ChunkKey, Held> chunks = new LinkedHashMap<>(1024, 0.75f, true);

    private static final class Held {
        final ByteBuffer bytes;
        boolean read;

        Held(ByteBuffer bytes, boolean read) {
            this.bytes = bytes;
            this.read = read;
        }
    }
    private long bytes;

    MemoryTier(long maxBytes, BiConsumer<ChunkKey, ByteBuffer> evicted) {
        this.maxBytes = maxBytes;
        this.evicted = evicted;
    }

    /** The chunk, marked as just used; null when not held. */
    synchronized ByteBuffer get(ChunkKey key) {
        Held held = chunks.get(key);
        if (held == null) {
            return null;
        }
        held.read = true;
        return held.bytes;
    }

    /** Whether the chunk is held; does not count as a read. */
    synchronized boolean contains(ChunkKey key) {
        return chunks.containsKey(key);
    }

    /** {@code read}: whether a reader asked for it already (loaded on demand) or not (handed over). */
    void put(ChunkKey key, ByteBuffer value, boolean read) {
        List<Map.Entry<ChunkKey, Held>> out = new ArrayList<>();
        synchronized (this) {
            Held old = chunks.put(key, new Held(value, read));
            if (old != null) {
                bytes -= weight(old.bytes);
            }
            bytes += weight(value);
            Iterator<Map.Entry<ChunkKey, Held>> eldest = chunks.entrySet().iterator();
            while (bytes > maxBytes && eldest.hasNext()) {
                Map.Entry<ChunkKey, Held> e = eldest.next();
                if (e.getKey().equals(key)) {
                    continue; // never evict what was just put
                }
                eldest.remove();
                bytes -= weight(e.getValue().bytes);
                if (e.getValue().read) {
                    out.add(e);
                }
            }
        }
        out.forEach(e -> evicted.accept(e.getKey(), e.getValue().bytes));
    }

    synchronized long bytes() {
        return bytes;
    }

    private static long weight(ByteBuffer value) {
        return value.remaining() + OVERHEAD;
    }
}
