package io.strata.metadata;

/**
 * Where a shard's producer snapshot is: an object holding the state of every idempotent producer of the
 * shard's partitions folded from the commits before sequence {@code coversBefore} (and not expired when it
 * was written). Compaction writes one before it merges away an index entry that carried producer batches,
 * so a commit entry below {@code coversBefore} may be gone and every one at or above it is still there. An
 * empty {@code objectKey} stands for a snapshot without any producer (no object is written for it).
 */
public record ProducerSnapshotRef(String objectKey, long coversBefore, long length, int crc32c) {
    public ProducerSnapshotRef {
        if (objectKey == null || coversBefore < 0 || length < 0) {
            throw new IllegalArgumentException("invalid producer snapshot reference " + objectKey);
        }
    }

    /** Whether the snapshot has an object (it is not empty). */
    public boolean hasObject() {
        return !objectKey.isEmpty();
    }
}
