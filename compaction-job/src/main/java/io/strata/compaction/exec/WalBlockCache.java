package io.strata.compaction.exec;

import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ForwardingObjectStore;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * Whole WAL blocks on the compaction node's local disk, for the reads of its merges. A block holds chunks of
 * partitions of many metadata shards, and shards are merged one after the other, so without it a block is
 * read once per shard it touches (up to 256 GETs, billed each); with it, once: the first read of a block
 * takes the whole object into a file, later reads of any range of it are served from that file. Least
 * recently used blocks go beyond {@code maxBytes}. Only keys under {@code wal/} are cached (segments are
 * read whole ranges at a time already); anything that fails locally falls back to a ranged GET.
 *
 * <p>Thread-safe: one download per block at a time, the others wait for it. The directory is emptied at
 * start (its files are only a cache).
 */
public final class WalBlockCache extends ForwardingObjectStore {
    private final Path dir;
    private final long maxBytes;
    private final Map<String, Long> sizes = new LinkedHashMap<>(256, 0.75f, true);
    private final Map<String, CompletableFuture<Path>> loading = new HashMap<>();
    private final LongAdder hits = new LongAdder();
    private final LongAdder downloads = new LongAdder();
    private long bytes;

    public WalBlockCache(ObjectStore objects, Path dir, long maxBytes) {
        super(objects);
        this.dir = dir;
        this.maxBytes = maxBytes;
        try {
            Files.createDirectories(dir);
            try (Stream<Path> old = Files.list(dir)) {
                for (Path p : old.toList()) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use " + dir + " for the compaction block cache", e);
        }
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key, ByteRange range) {
        if (!key.value().startsWith("wal/")) {
            return delegate.get(key, range);
        }
        return file(key).thenApply(path -> read(path, range))
                .exceptionallyCompose(e -> delegate.get(key, range));
    }

    private CompletableFuture<Path> file(ObjectKey key) {
        CompletableFuture<Path> load;
        synchronized (this) {
            if (sizes.get(key.value()) != null) {
                hits.increment();
                return CompletableFuture.completedFuture(path(key));
            }
            load = loading.get(key.value());
            if (load != null) {
                hits.increment();
                return load;
            }
            load = new CompletableFuture<>();
            loading.put(key.value(), load);
        }
        downloads.increment();
        CompletableFuture<Path> result = load;
        delegate.get(key).whenComplete((bytes, e) -> {
            Path path = path(key);
            try {
                if (e != null) {
                    throw e;
                }
                long size = bytes.remaining();
                try (FileChannel out = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
                    while (bytes.hasRemaining()) {
                        out.write(bytes);
                    }
                }
                admit(key.value(), size);
                result.complete(path);
            } catch (Throwable t) {
                result.completeExceptionally(t);
            } finally {
                synchronized (this) {
                    loading.remove(key.value());
                }
            }
        });
        return result;
    }

    /** Records the block and evicts the least recently used beyond the budget (never the one just added). */
    private void admit(String key, long size) {
        java.util.List<String> evicted = new java.util.ArrayList<>();
        synchronized (this) {
            sizes.put(key, size);
            bytes += size;
            Iterator<Map.Entry<String, Long>> it = sizes.entrySet().iterator();
            while (bytes > maxBytes && it.hasNext()) {
                Map.Entry<String, Long> oldest = it.next();
                if (oldest.getKey().equals(key)) {
                    continue;
                }
                bytes -= oldest.getValue();
                evicted.add(oldest.getKey());
                it.remove();
            }
        }
        for (String k : evicted) {
            try {
                Files.deleteIfExists(path(ObjectKey.of(k)));
            } catch (IOException ignored) {
                // a file left behind is removed at the next start
            }
        }
    }

    private ByteBuffer read(Path path, ByteRange range) {
        try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ)) {
            if (range.end() > in.size()) {
                throw new IllegalStateException("range " + range + " past the cached block's " + in.size() + " bytes");
            }
            ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(range.length()));
            long at = range.offset();
            while (out.hasRemaining()) {
                int n = in.read(out, at);
                if (n < 0) {
                    throw new IOException("early end of " + path);
                }
                at += n;
            }
            return out.flip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path path(ObjectKey key) {
        return dir.resolve(key.value().replace('/', '_'));
    }

    /** Ranged reads answered from a cached block (or one being downloaded). */
    public long hits() {
        return hits.sum();
    }

    /** Whole blocks downloaded. */
    public long downloads() {
        return downloads.sum();
    }

    /** Leaves the underlying store open: it belongs to the node. */
    @Override
    public void close() {
    }
}
