package io.strata.storage.object.local;

import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ObjectExistsException;
import io.strata.storage.object.ObjectInfo;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectNotFoundException;
import io.strata.storage.object.ObjectStore;
import io.strata.storage.object.ObjectStoreException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Objects as files under a directory: the embedded default's object store, and durable like S3 is.
 * A key is a relative path ({@link ObjectKey} admits only characters safe in both). A put writes a hidden
 * temporary file, forces it to disk, then hard-links it under its key, which fails if the key exists: so an
 * object appears whole or not at all, and is never overwritten.
 *
 * <p>Owns a small pool of named threads ({@code strata-local-objects-N}) that do the blocking file I/O, so
 * callers never block; {@link #close()} stops it. Thread-safe.
 */
public final class LocalObjectStore implements ObjectStore {
    /** Temporary files carry a character that no object key may contain, so listings never show them. */
    private static final String TMP_MARK = "~tmp-";

    private final Path root;
    private final ExecutorService io;

    public LocalObjectStore(Path root) {
        this(root, 4);
    }

    public LocalObjectStore(Path root, int threads) {
        this.root = root.toAbsolutePath();
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new ObjectStoreException("cannot create the object directory " + this.root + ": " + e, false, e);
        }
        AtomicInteger n = new AtomicInteger();
        this.io = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "strata-local-objects-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public CompletableFuture<Void> put(ObjectKey key, ByteBuffer bytes) {
        ByteBuffer data = bytes.duplicate();
        return run("put " + key, () -> {
            Path target = path(key);
            Path dir = target.getParent();
            Files.createDirectories(dir);
            Path tmp = dir.resolve(TMP_MARK + UUID.randomUUID());
            try {
                try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    while (data.hasRemaining()) {
                        out.write(data);
                    }
                    out.force(true);
                }
                try {
                    Files.createLink(target, tmp);
                } catch (FileAlreadyExistsException e) {
                    // The same bytes under the key: a retried put of this very object, which succeeds.
                    if (Files.mismatch(target, tmp) != -1) {
                        throw new ObjectExistsException(key);
                    }
                }
                forceDirectory(dir);
                return null;
            } finally {
                Files.deleteIfExists(tmp);
            }
        });
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key, ByteRange range) {
        return run("get " + key, () -> {
            try (FileChannel in = FileChannel.open(path(key), StandardOpenOption.READ)) {
                long size = in.size();
                if (range.offset() >= size) {
                    throw new ObjectStoreException("range @" + range.offset() + " starts at or past the end of "
                            + key + " (" + size + " bytes)", false);
                }
                ByteBuffer out = ByteBuffer.allocate((int) Math.min(range.length(), size - range.offset()));
                long position = range.offset();
                while (out.hasRemaining()) {
                    int read = in.read(out, position);
                    if (read < 0) {
                        throw new ObjectStoreException(key + " shrank while being read", true);
                    }
                    position += read;
                }
                return out.flip();
            } catch (NoSuchFileException e) {
                throw new ObjectNotFoundException(key);
            }
        });
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key) {
        return run("get " + key, () -> {
            try {
                return ByteBuffer.wrap(Files.readAllBytes(path(key)));
            } catch (NoSuchFileException e) {
                throw new ObjectNotFoundException(key);
            }
        });
    }

    @Override
    public CompletableFuture<List<ObjectInfo>> list(String prefix) {
        return run("list " + prefix, () -> {
            // Walk only the deepest directory the prefix names in full.
            int slash = prefix.lastIndexOf('/');
            Path start = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
            List<ObjectInfo> found = new ArrayList<>();
            if (!Files.isDirectory(start)) {
                return found;
            }
            try (Stream<Path> files = Files.walk(start)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    String name = file.getFileName().toString();
                    if (name.contains(TMP_MARK)) {
                        continue;
                    }
                    String key = root.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
                    if (!key.startsWith(prefix)) {
                        continue;
                    }
                    try {
                        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                        if (attributes.isRegularFile()) {
                            found.add(new ObjectInfo(ObjectKey.of(key), attributes.size(),
                                    attributes.lastModifiedTime().toInstant()));
                        }
                    } catch (NoSuchFileException deletedMeanwhile) {
                        // listed and deleted between the walk and the read: not there any more
                    }
                }
            }
            found.sort(Comparator.comparing(ObjectInfo::key));
            return found;
        });
    }

    @Override
    public CompletableFuture<Set<ObjectKey>> delete(Set<ObjectKey> keys) {
        Set<ObjectKey> copy = Set.copyOf(keys);
        return run("delete " + copy.size() + " objects", () -> {
            Set<ObjectKey> deleted = new HashSet<>();
            for (ObjectKey key : copy) {
                Files.deleteIfExists(path(key));
                deleted.add(key);
            }
            return deleted;
        });
    }

    private Path path(ObjectKey key) {
        return root.resolve(key.value());
    }

    private static void forceDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // Some platforms cannot open a directory for fsync; the file itself was forced.
        }
    }

    private <T> CompletableFuture<T> run(String what, Callable<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            io.execute(() -> {
                try {
                    result.complete(work.call());
                } catch (ObjectStoreException e) {
                    result.completeExceptionally(e);
                } catch (Exception e) {
                    result.completeExceptionally(new ObjectStoreException(what + " failed: " + e, true, e));
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new ObjectStoreException("the local object store is closed", false));
        }
        return result;
    }

    @Override
    public void close() {
        io.shutdown();
        try {
            if (!io.awaitTermination(10, TimeUnit.SECONDS)) {
                io.shutdownNow();
            }
        } catch (InterruptedException e) {
            io.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
