package io.strata.fetch.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.strata.format.BlockFormatException;
import io.strata.format.ChunkCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The second cache tier: chunks the memory tier evicts, one file each in a local directory, bounded by
 * bytes (least recently used files go first). It survives nothing and needs nothing: the directory is
 * emptied at start, and any failure (full disk, missing file) is a miss, never an error. Chunks are checked
 * against their CRC32C again when read back, so a damaged local file is a miss too.
 *
 * <p>Threads: two daemon threads {@code strata-disk-cache-*} do all file work; writes beyond
 * {@code maxPendingBytes} are dropped rather than queued (back-pressure by shedding: it is a cache).
 * Thread-safe.
 */
final class DiskTier implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DiskTier.class);

    private final Path dir;
    private final Cache<ChunkKey, Long> files;
    /** Chunks queued or being written: served from here meanwhile, so an eviction is never a miss. */
    private final java.util.concurrent.ConcurrentHashMap<ChunkKey, ByteBuffer> pending =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final ThreadPoolExecutor io;
    private final AtomicLong nextId = new AtomicLong();
    private final AtomicLong pendingBytes = new AtomicLong();
    private final long maxPendingBytes;
    private final LongAdder hits = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private final LongAdder dropped = new LongAdder();

    DiskTier(Path dir, long maxBytes, long maxPendingBytes) {
        this.dir = dir;
        this.maxPendingBytes = maxPendingBytes;
        wipe(dir);
        this.io = new ThreadPoolExecutor(2, 2, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(4096), r -> {
            Thread t = new Thread(r, "strata-disk-cache-" + nextId.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
        this.files = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((ChunkKey k, Long id) -> k.byteLength() + 256)
                .removalListener((ChunkKey k, Long id, RemovalCause cause) -> {
                    if (id != null) {
                        delete(file(id)); // replaced too: the new copy has its own file
                    }
                })
                .build();
    }

    /**
     * Keeps a copy of the chunk, unless this tier holds one already (a chunk read back from here and
     * evicted from memory again: a catch-up reader's second pass would otherwise rewrite every file it
     * reads) or too much is waiting to be written.
     */
    void write(ChunkKey key, ByteBuffer bytes) {
        if (files.getIfPresent(key) != null) {
            return;
        }
        int n = bytes.remaining();
        if (pendingBytes.addAndGet(n) > maxPendingBytes) {
            pendingBytes.addAndGet(-n);
            dropped.increment();
            return;
        }
        ByteBuffer copy = bytes.duplicate();
        if (pending.putIfAbsent(key, bytes.duplicate()) != null) {
            pendingBytes.addAndGet(-n);
            return;
        }
        try {
            io.execute(() -> {
                try {
                    long id = nextId.incrementAndGet();
                    Path tmp = dir.resolve(id + ".tmp");
                    try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                        while (copy.hasRemaining()) {
                            out.write(copy);
                        }
                    }
                    Files.move(tmp, file(id), StandardCopyOption.ATOMIC_MOVE);
                    files.put(key, id);
                    writes.increment();
                } catch (IOException | RuntimeException e) {
                    dropped.increment();
                    LOG.debug("disk cache write dropped", e);
                } finally {
                    pending.remove(key);
                    pendingBytes.addAndGet(-n);
                }
            });
        } catch (RejectedExecutionException e) {
            pending.remove(key);
            pendingBytes.addAndGet(-n);
            dropped.increment();
        }
    }

    /** The chunk's verified bytes, or null when this tier does not hold it (or holds a damaged copy). */
    CompletableFuture<ByteBuffer> read(ChunkKey key) {
        ByteBuffer writing = pending.get(key);
        if (writing != null) {
            hits.increment();
            return CompletableFuture.completedFuture(writing.duplicate());
        }
        Long id = files.getIfPresent(key);
        if (id == null) {
            return CompletableFuture.completedFuture(null);
        }
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file(id)));
                    if (bytes.remaining() != key.byteLength()) {
                        throw new IOException("length " + bytes.remaining() + ", expected " + key.byteLength());
                    }
                    ChunkCodec.verify(bytes, key.crc32c());
                    hits.increment();
                    return bytes;
                } catch (IOException | BlockFormatException e) {
                    LOG.warn("disk cache file of {} @{} unusable ({}); reading it again from the object store",
                            key.objectKey(), key.byteOffset(), e.toString());
                    files.invalidate(key);
                    return null;
                }
            }, io);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(null);
        }
    }

    long hits() {
        return hits.sum();
    }

    long writes() {
        return writes.sum();
    }

    long dropped() {
        return dropped.sum();
    }

    /** Bytes of chunk files held now (approximately: eviction is asynchronous). */
    long bytes() {
        return files.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    private Path file(long id) {
        return dir.resolve(id + ".chunk");
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.debug("deleting {}", file, e);
        }
    }

    private static void wipe(Path dir) {
        try {
            if (Files.exists(dir)) {
                try (Stream<Path> walk = Files.walk(dir)) {
                    walk.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(dir)).forEach(DiskTier::delete);
                }
            }
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the disk cache directory " + dir, e);
        }
    }

    @Override
    public void close() {
        io.shutdownNow();
        files.invalidateAll();
        files.cleanUp();
    }
}
