package io.strata.storage.object.local;

import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ListPage;
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
            Path tmp = dir.resolve(TMP_MARK + UUID.randomUUID());
            try {
                try (FileChannel out = createInFreshDirectory(dir, tmp)) {
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

    /**
     * Creates {@code file} in {@code dir}, making the directory first. A delete that emptied the directory may
     * remove it between the two (deletes prune empty directories): then it is made again.
     */
    private static FileChannel createInFreshDirectory(Path dir, Path file) throws IOException {
        for (int attempt = 0; ; attempt++) {
            try {
                return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (NoSuchFileException e) {
                if (attempt >= 5) {
                    throw e;
                }
                // Made only when missing: Files.createDirectories on one that exists throws and catches an exception.
                Files.createDirectories(dir);
            }
        }
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
    public CompletableFuture<ListPage> listPage(String prefix, String startAfter, int maxKeys) {
        if (maxKeys < 1) {
            throw new IllegalArgumentException("maxKeys must be positive");
        }
        return run("list " + prefix, () -> {
            List<ObjectInfo> found = new ArrayList<>();
            boolean more = walk(root, "", prefix, startAfter == null ? "" : startAfter, maxKeys, found);
            return new ListPage(found, more ? found.get(found.size() - 1).key().value() : null);
        });
    }

    /**
     * Visits the directory holding keys that start with {@code keyPrefix}, in key order, adding objects that
     * start with {@code prefix} and come after {@code after} until {@code found} holds {@code max}; answers
     * whether the walk stopped with objects left to list. Entries sort as the keys they hold: a directory
     * "a" as "a/", so that "a-b" comes before "a/b" as it does in key order (and in S3's listings).
     */
    private boolean walk(Path dir, String keyPrefix, String prefix, String after, int max, List<ObjectInfo> found)
            throws IOException {
        List<String[]> entries = new ArrayList<>(); // {sort key, name}
        try (Stream<Path> children = Files.list(dir)) {
            for (Path child : (Iterable<Path>) children::iterator) {
                String name = child.getFileName().toString();
                if (name.contains(TMP_MARK)) {
                    continue;
                }
                entries.add(new String[] {keyPrefix + name + (Files.isDirectory(child) ? "/" : ""), name});
            }
        } catch (NoSuchFileException deletedMeanwhile) {
            return false;
        }
        entries.sort(Comparator.comparing(e -> e[0]));
        for (String[] entry : entries) {
            String key = entry[0];
            boolean directory = key.endsWith("/");
            // Skip what cannot hold a key after `after` or under `prefix`.
            boolean mayFollow = key.compareTo(after) > 0 || (directory && after.startsWith(key));
            boolean mayMatch = directory ? key.startsWith(prefix) || prefix.startsWith(key) : key.startsWith(prefix);
            if (!mayFollow || !mayMatch) {
                continue;
            }
            if (directory) {
                if (walk(dir.resolve(entry[1]), key, prefix, after, max, found)) {
                    return true;
                }
                continue;
            }
            if (found.size() == max) {
                return true;
            }
            try {
                BasicFileAttributes attributes = Files.readAttributes(dir.resolve(entry[1]), BasicFileAttributes.class);
                if (attributes.isRegularFile()) {
                    found.add(new ObjectInfo(ObjectKey.of(key), attributes.size(),
                            attributes.lastModifiedTime().toInstant()));
                }
            } catch (NoSuchFileException deletedMeanwhile) {
                // listed and deleted between the walk and the read: not there any more
            }
        }
        return false;
    }

    @Override
    public CompletableFuture<Set<ObjectKey>> delete(Set<ObjectKey> keys) {
        Set<ObjectKey> copy = Set.copyOf(keys);
        return run("delete " + copy.size() + " objects", () -> {
            Set<ObjectKey> deleted = new HashSet<>();
            for (ObjectKey key : copy) {
                Path file = path(key);
                if (Files.deleteIfExists(file)) {
                    pruneEmptyDirectories(file.getParent());
                }
                deleted.add(key);
            }
            return deleted;
        });
    }

    /** A crashed put leaves its temporary file behind: delete those older than the time, and emptied directories. */
    @Override
    public CompletableFuture<Integer> deleteIncomplete(java.time.Instant startedBefore) {
        return run("delete incomplete writes", () -> {
            List<Path> stale = new ArrayList<>();
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    if (file.getFileName().toString().startsWith(TMP_MARK)) {
                        try {
                            if (Files.getLastModifiedTime(file).toInstant().isBefore(startedBefore)) {
                                stale.add(file);
                            }
                        } catch (NoSuchFileException finishedMeanwhile) {
                            // its put completed (or failed) and removed it
                        }
                    }
                }
            }
            for (Path file : stale) {
                Files.deleteIfExists(file);
                pruneEmptyDirectories(file.getParent());
            }
            return stale.size();
        });
    }

    /**
     * Removes {@code dir} and its parents up to the root while they are empty, so a bucket whose objects are
     * all deleted leaves no directories either. A put racing with this makes its directory again.
     */
    private void pruneEmptyDirectories(Path dir) {
        for (Path d = dir; d != null && d.startsWith(root) && !d.equals(root); d = d.getParent()) {
            try {
                Files.delete(d);
            } catch (IOException notEmptyOrGone) {
                return;
            }
        }
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
