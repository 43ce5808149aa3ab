package io.strata.fetch.cache;

import io.strata.format.BlockFormatException;
import io.strata.format.ChunkCodec;
import io.strata.metadata.ChunkRef;
import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStoreException;
import io.strata.storage.object.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Verified compressed chunks in two bounded tiers: memory, then (optionally) a local disk directory that
 * takes what memory evicts. On a miss in both, the chunk is read with a ranged GET, and the GET is widened
 * to the chunk's neighbours in the same object that the caller says it will want too (other partitions
 * being read on this node, the next chunks of a catch-up reader), as long as they are close together: one
 * GET per object rather than one per chunk. Every chunk is read once however many fetches want it at once
 * (an in-flight map holds each load's future, neighbours included), and its CRC32C is checked before it
 * is cached or served: a bad chunk fails the fetches that asked and is not kept.
 *
 * <p>Threads: loads complete on the object store's threads; the disk tier has its own. Thread-safe.
 */
public final class ChunkCache implements AutoCloseable {
    /** Chunks of the same object as the one asked for that the caller would like loaded with it. */
    @FunctionalInterface
    public interface Neighbours {
        Neighbours NONE = ref -> List.of();

        List<ChunkRef> of(ChunkRef wanted);
    }

    /**
     * @param memoryMaxBytes  bytes of chunks kept in memory
     * @param diskDir         the disk tier's directory (emptied at start), or null for none
     * @param diskMaxBytes    bytes of chunks kept on disk
     * @param maxGetBytes     the most bytes one widened GET may span
     * @param maxGapBytes     the most unwanted bytes a widened GET may read between two wanted chunks
     */
    public record Settings(long memoryMaxBytes, Path diskDir, long diskMaxBytes, long maxGetBytes, long maxGapBytes) {
        public Settings {
            if (memoryMaxBytes <= 0 || diskMaxBytes < 0 || maxGetBytes <= 0 || maxGapBytes < 0) {
                throw new IllegalArgumentException("inconsistent chunk cache settings");
            }
        }

        public static Settings memoryOnly(long memoryMaxBytes) {
            return new Settings(memoryMaxBytes, null, 0, 16 << 20, 1 << 20);
        }
    }

    /** GETs of a chunk whose bytes fail their check before it is taken to be corrupt in the object store. */
    static final int READ_ATTEMPTS = 3;

    private final ObjectStore objects;
    private final Settings settings;
    private final MemoryTier memory;
    /** Chunks being read (from disk or the object store): whoever asks meanwhile waits for the same read. */
    private final ConcurrentHashMap<ChunkKey, CompletableFuture<ByteBuffer>> loading = new ConcurrentHashMap<>();
    private final DiskTier disk;
    /** Bytes of chunks being loaded now: they are in memory but not yet counted by the memory tier. */
    private final java.util.concurrent.atomic.AtomicLong loadingBytes = new java.util.concurrent.atomic.AtomicLong();
    private final LongAdder requests = new LongAdder();
    private final LongAdder memoryHits = new LongAdder();
    private final LongAdder loads = new LongAdder();
    private final LongAdder loadedBytes = new LongAdder();
    private final LongAdder handedOver = new LongAdder();
    private final LongAdder corrupt = new LongAdder();

    public ChunkCache(ObjectStore objects, Settings settings) {
        this.objects = objects;
        this.settings = settings;
        this.disk = settings.diskDir() == null || settings.diskMaxBytes() == 0 ? null
                : new DiskTier(settings.diskDir(), settings.diskMaxBytes(), pendingDiskBytes(settings));
        this.memory = new MemoryTier(settings.memoryMaxBytes(), (k, v) -> {
            if (disk != null) {
                disk.write(k, v);
            }
        });
    }

    /**
     * How many evicted bytes may wait for the disk tier's writers before more are dropped: half the memory
     * tier (they are chunks memory just let go, so the heap bound stays proportional to it) and at least
     * 32 MiB, at most the disk tier. 32 MiB alone was too little: on two busy cores the writers fell behind
     * a cold catch-up read and dropped a tenth of its chunks, which the next read of the same backlog then
     * fetched from the object store again.
     */
    private static long pendingDiskBytes(Settings settings) {
        return Math.min(Math.max(32L << 20, settings.memoryMaxBytes() / 2), settings.diskMaxBytes());
    }

    /** A memory-only cache. */
    public ChunkCache(ObjectStore objects, long memoryMaxBytes) {
        this(objects, Settings.memoryOnly(memoryMaxBytes));
    }

    /**
     * The chunk's stored (compressed, verified) bytes: a view of what the cache holds, shared with every
     * other reader, so it must be read, never written. Not a read-only buffer on purpose: protobuf's
     * {@code UnsafeByteOperations.unsafeWrap} cannot see the array behind one and copies it, which was a
     * copy and an allocation of every chunk a fetch node served.
     */
    public CompletableFuture<ByteBuffer> get(ChunkRef ref) {
        return get(ref, Neighbours.NONE);
    }

    /** The chunk's bytes (see {@link #get(ChunkRef)}), loading the wanted {@code neighbours} in the same GET. */
    public CompletableFuture<ByteBuffer> get(ChunkRef ref, Neighbours neighbours) {
        requests.increment();
        return claimOrJoin(ref, neighbours).thenApply(ByteBuffer::duplicate);
    }

    /** Loads the chunk (and neighbours) into the cache if it is not there, without waiting: read-ahead. */
    public void prefetch(ChunkRef ref, Neighbours neighbours) {
        if (loadingBytes.get() > settings.maxGetBytes() * 4) {
            return; // enough is on its way already: read-ahead must not pile up loads beyond the memory bound
        }
        claimOrJoin(ref, neighbours);
    }

    /**
     * Takes a chunk handed over by an ingest node right after its upload, so tail consumers are served
     * without a GET. Checked like any other; a chunk already held or loading is left alone.
     *
     * @return false when the bytes do not match the chunk's length or CRC32C (they are then dropped)
     */
    public boolean offer(ChunkKey key, ByteBuffer bytes) {
        if (memory.contains(key) || loading.containsKey(key)) {
            return true;
        }
        try {
            check(key, bytes);
        } catch (BlockFormatException e) {
            corrupt.increment();
            return false;
        }
        memory.put(key, owned(bytes), false);
        handedOver.increment();
        return true;
    }

    /**
     * The chunk in a buffer of its own when it is a view of a larger one (a block handed over on the node that
     * sealed it): a view keeps the whole block alive for as long as the chunk is cached, where the memory tier
     * counts only the chunk, so a tier of small chunks could hold many times its bound.
     */
    private static ByteBuffer owned(ByteBuffer bytes) {
        if (bytes.hasArray() && bytes.arrayOffset() == 0 && bytes.position() == 0
                && bytes.array().length == bytes.remaining()) {
            return bytes;
        }
        return ByteBuffer.allocate(bytes.remaining()).put(bytes.duplicate()).flip();
    }

    private CompletableFuture<ByteBuffer> claimOrJoin(ChunkRef ref, Neighbours neighbours) {
        ChunkKey key = ChunkKey.of(ref);
        ByteBuffer held = memory.get(key);
        if (held != null) {
            memoryHits.increment();
            return CompletableFuture.completedFuture(held);
        }
        CompletableFuture<ByteBuffer> mine = new CompletableFuture<>();
        CompletableFuture<ByteBuffer> prior = claim(key, mine);
        if (prior != null) {
            memoryHits.increment();
            return prior;
        }
        List<Claim> claims = new ArrayList<>();
        claims.add(new Claim(key, mine));
        claimNeighbours(key, neighbours.of(ref), claims);
        load(claims);
        return mine;
    }

    /**
     * Registers {@code future} as the load of {@code key}; answers the future to wait for instead when the
     * chunk is loading or (checked again after registering, so a load finishing in between is not repeated)
     * already held.
     */
    private CompletableFuture<ByteBuffer> claim(ChunkKey key, CompletableFuture<ByteBuffer> future) {
        CompletableFuture<ByteBuffer> prior = loading.putIfAbsent(key, future);
        if (prior != null) {
            return prior;
        }
        ByteBuffer held = memory.get(key);
        if (held != null) {
            loading.remove(key, future);
            future.complete(held);
            return future;
        }
        loadingBytes.addAndGet(key.byteLength());
        future.whenComplete((bytes, failure) -> {
            loadingBytes.addAndGet(-key.byteLength());
            if (bytes != null) {
                memory.put(key, bytes, true);
            }
            loading.remove(key, future);
        });
        return null;
    }

    private record Claim(ChunkKey key, CompletableFuture<ByteBuffer> future) {
    }

    /**
     * Claims the neighbours nobody holds or loads that lie close to the span claimed so far, growing it
     * outwards from the wanted chunk in byte order while it stays within the GET and gap limits.
     */
    private void claimNeighbours(ChunkKey wanted, List<ChunkRef> candidates, List<Claim> claims) {
        if (candidates.isEmpty()) {
            return;
        }
        List<ChunkKey> sorted = candidates.stream().map(ChunkKey::of)
                .filter(k -> k.objectKey().equals(wanted.objectKey()) && !k.equals(wanted))
                .sorted(Comparator.comparingLong(ChunkKey::byteOffset)).toList();
        long start = wanted.byteOffset();
        long end = wanted.end();
        for (ChunkKey k : sorted) { // rightwards
            if (k.byteOffset() < end) {
                continue;
            }
            if (k.byteOffset() - end > settings.maxGapBytes() || k.end() - start > settings.maxGetBytes()) {
                break;
            }
            if (tryClaim(k, claims)) {
                end = k.end();
            }
        }
        for (int i = sorted.size() - 1; i >= 0; i--) { // leftwards
            ChunkKey k = sorted.get(i);
            if (k.end() > start) {
                continue;
            }
            if (start - k.end() > settings.maxGapBytes() || end - k.byteOffset() > settings.maxGetBytes()) {
                break;
            }
            if (tryClaim(k, claims)) {
                start = k.byteOffset();
            }
        }
    }

    private boolean tryClaim(ChunkKey key, List<Claim> claims) {
        if (memory.contains(key) || loading.containsKey(key)) {
            return false;
        }
        CompletableFuture<ByteBuffer> future = new CompletableFuture<>();
        if (claim(key, future) != null || future.isDone()) {
            return false;
        }
        claims.add(new Claim(key, future));
        return true;
    }

    /** Serves each claim from the disk tier when it can, and the rest with one ranged GET. */
    private void load(List<Claim> claims) {
        if (disk == null) {
            fromStore(claims);
            return;
        }
        List<CompletableFuture<ByteBuffer>> onDisk = claims.stream().map(c -> disk.read(c.key())).toList();
        CompletableFuture.allOf(onDisk.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
            List<Claim> missing = new ArrayList<>();
            for (int i = 0; i < claims.size(); i++) {
                // A failed disk read is a miss (getNow would throw it, and leave the claims after it unanswered).
                ByteBuffer bytes = onDisk.get(i).isCompletedExceptionally() ? null : onDisk.get(i).getNow(null);
                if (bytes != null) {
                    claims.get(i).future().complete(bytes);
                } else {
                    missing.add(claims.get(i));
                }
            }
            if (!missing.isEmpty()) {
                fromStore(missing);
            }
        });
    }

    private void fromStore(List<Claim> claims) {
        fromStore(claims, 1, null);
    }

    /**
     * One ranged GET for the claims. A chunk that arrives damaged (a flipped bit or a short body on the way)
     * is read again on its own, up to {@link #READ_ATTEMPTS} times in all. If every read gave the same wrong
     * bytes, the stored object is what is damaged: the chunk fails as {@code DATA_LOSS}
     * ({@link BlockFormatException}), which must mean exactly that. If the reads were damaged each in its
     * own way, the object is fine and the way to it is not: the chunk fails as unavailable
     * ({@link ObjectStoreException}, retryable). Damaged bytes are never cached.
     *
     * @param damage what the chunk's earlier reads gave (null on the first; {@link #MIXED} once they differed)
     */
    private void fromStore(List<Claim> claims, int attempt, String damage) {
        long start = claims.stream().mapToLong(c -> c.key().byteOffset()).min().orElseThrow();
        long end = claims.stream().mapToLong(c -> c.key().end()).max().orElseThrow();
        String objectKey = claims.get(0).key().objectKey();
        loads.increment();
        objects.get(ObjectKey.of(objectKey), ByteRange.of(start, end - start)).whenComplete((bytes, failure) -> {
            if (failure != null) {
                claims.forEach(c -> c.future().completeExceptionally(failure));
                return;
            }
            loadedBytes.add(bytes.remaining());
            List<Claim> damaged = new ArrayList<>();
            List<String> damages = new ArrayList<>();
            for (Claim c : claims) {
                int from = Math.toIntExact(c.key().byteOffset() - start);
                try {
                    if (bytes.remaining() < from + c.key().byteLength()) {
                        throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED, "chunk of "
                                + objectKey + " @" + c.key().byteOffset() + " is past the end of what was read");
                    }
                    ByteBuffer chunk = bytes.duplicate().position(bytes.position() + from).slice()
                            .limit(c.key().byteLength());
                    check(c.key(), chunk);
                    // Its own copy: a slice would keep the whole GET's buffer alive while any chunk of it is cached.
                    ByteBuffer own = claims.size() == 1 ? chunk : ByteBuffer.allocate(chunk.remaining()).put(chunk).flip();
                    c.future().complete(own);
                } catch (BlockFormatException e) {
                    corrupt.increment();
                    String seen = whatWasRead(bytes, from, c.key().byteLength());
                    String sofar = damage == null || damage.equals(seen) ? seen : MIXED;
                    if (attempt < READ_ATTEMPTS) {
                        damaged.add(c);
                        damages.add(sofar);
                    } else if (!sofar.equals(MIXED)) {
                        c.future().completeExceptionally(e); // the same wrong bytes every time: stored so
                    } else {
                        c.future().completeExceptionally(new ObjectStoreException("chunk of " + objectKey + " @"
                                + c.key().byteOffset() + " arrived damaged " + READ_ATTEMPTS + " times, differently "
                                + "each time: the object is intact, the reads were not (" + e.getMessage() + ")", true));
                    }
                } catch (RuntimeException e) {
                    c.future().completeExceptionally(e);
                }
            }
            for (int i = 0; i < damaged.size(); i++) {
                fromStore(List.of(damaged.get(i)), attempt + 1, damages.get(i));
            }
        });
    }

    /** Damaged reads that differed from one another. */
    private static final String MIXED = "mixed";

    /** What a read gave for a chunk, to tell one damage from another: its length and its bytes' CRC32C. */
    private static String whatWasRead(ByteBuffer bytes, int from, int length) {
        int available = Math.max(0, Math.min(length, bytes.remaining() - from));
        ByteBuffer got = bytes.duplicate().position(bytes.position() + Math.min(from, bytes.remaining())).slice()
                .limit(available);
        return available + ":" + Integer.toHexString(io.strata.format.BlockFormat.crc32c(got));
    }

    private static void check(ChunkKey key, ByteBuffer bytes) {
        if (bytes.remaining() != key.byteLength()) {
            throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED, "chunk of " + key.objectKey()
                    + " @" + key.byteOffset() + " is " + bytes.remaining() + " bytes, expected " + key.byteLength());
        }
        ChunkCodec.verify(bytes, key.crc32c());
    }

    /** Chunk requests served (hits and misses). */
    public long requests() {
        return requests.sum();
    }

    /** Requests answered by a chunk the memory tier held or was already loading. */
    public long memoryHits() {
        return memoryHits.sum();
    }

    /** Requests answered from the disk tier. */
    public long diskHits() {
        return disk == null ? 0 : disk.hits();
    }

    /** Chunk files the disk tier wrote. */
    public long diskWrites() {
        return disk == null ? 0 : disk.writes();
    }

    /** Chunks the disk tier did not take (too much waiting to be written, or a write failed). */
    public long diskDropped() {
        return disk == null ? 0 : disk.dropped();
    }

    /** Ranged GETs issued. */
    public long loads() {
        return loads.sum();
    }

    /** Bytes those GETs read. */
    public long loadedBytes() {
        return loadedBytes.sum();
    }

    /** Chunks taken from ingest nodes' hand-offs. */
    public long handedOver() {
        return handedOver.sum();
    }

    /** Chunks that failed their checks (length or CRC32C). */
    public long corrupt() {
        return corrupt.sum();
    }

    /** Bytes held in memory (approximately: eviction is asynchronous). */
    public long memoryBytes() {
        return memory.bytes();
    }

    /** Bytes held on disk. */
    public long diskBytes() {
        return disk == null ? 0 : disk.bytes();
    }

    @Override
    public void close() {
        if (disk != null) {
            disk.close();
        }
    }
}
