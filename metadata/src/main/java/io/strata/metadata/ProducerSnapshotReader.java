package io.strata.metadata;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * Reads a producer snapshot's object (compaction wrote it to the object store) for commits that rebuild a
 * shard's producer state. The metadata store has no object store of its own: the node hands it this (an
 * object store's {@code get}).
 */
@FunctionalInterface
public interface ProducerSnapshotReader {
    /** The object's bytes, as stored (the caller checks them against the reference). */
    CompletableFuture<ByteBuffer> read(String objectKey);
}
