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

    /** Fails unless {@code bytes} are this snapshot's object as written (its length and CRC32C). */
    public void verify(byte[] bytes) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes);
        if (bytes.length != length || (int) crc.getValue() != crc32c) {
            throw new MetadataException("producer snapshot " + objectKey + " does not match its reference ("
                    + bytes.length + " bytes read, " + length + " written, or a checksum mismatch)", true);
        }
    }

    /** Whether the snapshot has an object (it is not empty). */
    public boolean hasObject() {
        return !objectKey.isEmpty();
    }
}
