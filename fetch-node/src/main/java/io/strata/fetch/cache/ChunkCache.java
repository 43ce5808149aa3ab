package io.strata.fetch.cache;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.strata.metadata.ChunkRef;
import io.strata.format.ChunkCodec;
import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * Verified compressed chunks, bounded by bytes. A chunk is read with one ranged GET however many fetches
 * want it at once (the cache holds the in-flight future), and its CRC32C is checked before it is cached:
 * a bad chunk fails the fetches that asked and is not kept, so the next ask reads it again.
 *
 * <p>Threads: loads complete on the object store's threads; Caffeine's maintenance runs on the common pool.
 * Thread-safe.
 */
public final class ChunkCache {
    private final ObjectStore objects;
    private final AsyncCache<ChunkKey, ByteBuffer> cache;
    private final LongAdder requests = new LongAdder();
    private final LongAdder loads = new LongAdder();

    public record ChunkKey(String objectKey, long byteOffset, int byteLength, int crc32c) {
        static ChunkKey of(ChunkRef ref) {
            return new ChunkKey(ref.objectKey(), ref.byteOffset(), ref.byteLength(), ref.crc32c());
        }
    }

    public ChunkCache(ObjectStore objects, long maxBytes) {
        this.objects = objects;
        this.cache = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((ChunkKey k, ByteBuffer v) -> v.remaining() + 64)
                .buildAsync();
    }

    /** The chunk's stored (compressed, verified) bytes; read-only. */
    public CompletableFuture<ByteBuffer> get(ChunkRef ref) {
        requests.increment();
        return cache.get(ChunkKey.of(ref), (key, executor) -> load(key)).thenApply(ByteBuffer::asReadOnlyBuffer);
    }

    private CompletableFuture<ByteBuffer> load(ChunkKey key) {
        loads.increment();
        return objects.get(ObjectKey.of(key.objectKey()), ByteRange.of(key.byteOffset(), key.byteLength()))
                .thenApply(bytes -> {
                    if (bytes.remaining() != key.byteLength()) {
                        throw new io.strata.format.BlockFormatException(
                                io.strata.format.BlockFormatException.Reason.TRUNCATED,
                                "chunk of " + key.objectKey() + " @" + key.byteOffset() + " is " + bytes.remaining()
                                        + " bytes, expected " + key.byteLength());
                    }
                    ChunkCodec.verify(bytes, key.crc32c());
                    return bytes;
                });
    }

    /** Chunk requests served (hits and misses). */
    public long requests() {
        return requests.sum();
    }

    /** Ranged GETs issued. */
    public long loads() {
        return loads.sum();
    }
}
