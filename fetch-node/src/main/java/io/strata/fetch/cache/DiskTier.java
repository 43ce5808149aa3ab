package io.strata.fetch.cache;

import io.strata.format.BlockFormatException;
import io.strata.format.ChunkCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
 * bytes, least recently used files first out ({@link LruByWeight}, like the memory tier: with Caffeine's
 * frequency-based admission, a second read of a backlog that fit here went to the object store again for a
 * fifth of it). It survives nothing and needs nothing: the directory is
 * emptied at start (only a directory it made itself, marked so: {@link #wipe}), and any failure (full disk, missing file) is a miss, never an error. Chunks are checked
 * against their CRC32C again when read back, so a damaged local file is a miss too.
 *
 * <p>Threads: two daemon threads {@code strata-disk-cache-*} do all file work; writes beyond
 * {@code maxPendingBytes} are dropped rather than queued (back-pressure by shedding: it is a cache).
 * Thread-safe.
 */
final class DiskTier implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DiskTier.class);

    private final Path dir;
    private final long maxBytes;
    /** Chunk → file id. */
    private final LruByWeight<ChunkKey, Long> files;
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
        this.maxBytes = maxBytes;
        this.files = new LruByWeight<>(maxBytes);
        this.maxPendingBytes = maxPendingBytes;
        wipe(dir);
        this.io = new ThreadPoolExecutor(2, 2, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(4096), r -> {
            Thread t = new Thread(r, "strata-disk-cache-" + nextId.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
    }

    /**
     * Keeps a copy of the chunk, unless this tier holds one already (a chunk read back from here and
     * evicted from memory again: a catch-up reader's second pass would otherwise rewrite every file it
     * reads) or too much is waiting to be written.
     */
    void write(ChunkKey key, ByteBuffer bytes) {
        if (weight(key) > maxBytes || files.contains(key)) {
            return; // a chunk larger than the whole tier would only push everything else out
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
                long id = nextId.incrementAndGet();
                Path tmp = dir.resolve(id + ".tmp");
                try {
                    try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                        while (copy.hasRemaining()) {
                            out.write(copy);
                        }
                    }
                    Files.move(tmp, file(id), StandardCopyOption.ATOMIC_MOVE);
                    keep(key, id);
                    writes.increment();
                } catch (IOException | RuntimeException e) {
                    // A part written (a full disk, an interrupt at close) is not left to fill the disk unaccounted.
                    delete(tmp);
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
        Long id = files.get(key);
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
                } catch (NoSuchFileException e) {
                    return null; // evicted between the look-up and the read: a miss
                } catch (IOException | BlockFormatException e) {
                    LOG.warn("disk cache file of {} @{} unusable ({}); reading it again from the object store",
                            key.objectKey(), key.byteOffset(), e.toString());
                    forget(key, id);
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

    /** Bytes of chunk files held now. */
    long bytes() {
        return files.weight();
    }

    /** Records the chunk's file, then deletes the files that left: least recently used beyond the bound, replaced. */
    private void keep(ChunkKey key, long id) {
        files.put(key, id, weight(key)).forEach(out -> delete(file(out.getValue())));
    }

    /** Drops the chunk's file if it is still the one held. */
    private void forget(ChunkKey key, long id) {
        files.remove(key, id);
        delete(file(id));
    }

    /**
     * What a chunk's file takes on disk, as the bound counts it: its bytes rounded up to the filesystem's 4 KiB
     * blocks (a chunk of a few hundred bytes, common with many partitions, takes a whole one), and its inode.
     */
    static long weight(ChunkKey key) {
        return ((key.byteLength() + BLOCK - 1) / BLOCK) * BLOCK + 256L;
    }

    private static final long BLOCK = 4096;

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

    /** The file that marks a directory as this tier's: only such a directory is ever emptied. */
    static final String MARKER = ".strata-disk-cache";

    /**
     * Empties the directory of an earlier run, or makes a new one and marks it. A directory that holds
     * anything but is not marked (a mistyped setting pointing at /home, say) is refused, never emptied.
     */
    static void wipe(Path dir) {
        try {
            Path marker = dir.resolve(MARKER);
            if (Files.isDirectory(dir) && !Files.exists(marker)) {
                try (Stream<Path> entries = Files.list(dir)) {
                    if (entries.findAny().isPresent()) {
                        throw new IllegalStateException("the disk cache directory " + dir + " holds files the cache "
                                + "did not write (no " + MARKER + " in it): the cache empties its directory at "
                                + "start, so give it an empty or new one (strata.fetch.disk-cache-dir)");
                    }
                }
            }
            if (Files.exists(marker)) {
                try (Stream<Path> walk = Files.walk(dir)) {
                    walk.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(dir) && !p.equals(marker))
                            .forEach(DiskTier::delete);
                }
            }
            Files.createDirectories(dir);
            if (!Files.exists(marker)) {
                Files.writeString(marker, "The Strata fetch node's disk cache: emptied at every start.\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the disk cache directory " + dir, e);
        }
    }

    @Override
    public void close() {
        io.shutdownNow();
        files.clear().forEach(id -> delete(file(id)));
    }
}
