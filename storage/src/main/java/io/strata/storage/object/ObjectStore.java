package io.strata.storage.object;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Immutable objects by key: the only durable store of Strata's data. Thread-safe.
 *
 * <p>A key is written at most once: {@link #put} never replaces an object, so a retried put is safe and a
 * reader that found a key always reads the same bytes. Every method answers with a future that completes
 * (normally or exceptionally, never left hanging) within the adapter's configured timeouts; methods do not
 * throw for I/O failures, they fail the future with an {@link ObjectStoreException}.
 */
public interface ObjectStore extends AutoCloseable {

    /**
     * Stores {@code bytes} (from position to limit) under {@code key}. Fails with {@link ObjectExistsException}
     * when another object is under the key; a put of the very same bytes succeeds (a retried put).
     */
    CompletableFuture<Void> put(ObjectKey key, ByteBuffer bytes);

    /**
     * Reads {@code range} of the object. A range that runs past the end answers the bytes up to the end;
     * a range that starts at or past the end fails with {@link ObjectStoreException}.
     * Fails with {@link ObjectNotFoundException} when there is no such object.
     */
    CompletableFuture<ByteBuffer> get(ObjectKey key, ByteRange range);

    /** Reads the whole object. Fails with {@link ObjectNotFoundException}. */
    CompletableFuture<ByteBuffer> get(ObjectKey key);

    /** Every object whose key starts with {@code prefix}, in key order. */
    CompletableFuture<List<ObjectInfo>> list(String prefix);

    /**
     * At most {@code maxKeys} objects whose key starts with {@code prefix} and comes after {@code startAfter}
     * (from the first when null), in key order: a listing walked a page at a time, bounded in memory however
     * many objects there are.
     */
    CompletableFuture<ListPage> listPage(String prefix, String startAfter, int maxKeys);

    /**
     * Removes what writes that never completed left behind and that was started before {@code startedBefore}
     * (a local put's temporary file after a crash, an abandoned multipart upload on S3). Such leftovers are
     * not objects: listings never show them. Answers how many were removed.
     */
    CompletableFuture<Integer> deleteIncomplete(java.time.Instant startedBefore);

    /** Deletes the keys; absent keys count as deleted. Answers the keys confirmed deleted. */
    CompletableFuture<Set<ObjectKey>> delete(Set<ObjectKey> keys);

    @Override
    void close();
}
