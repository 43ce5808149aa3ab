package io.strata.metadata;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

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

    /** The reference to {@code bytes}, written as the object {@code objectKey}. */
    public static ProducerSnapshotRef of(String objectKey, long coversBefore, byte[] bytes) {
        return new ProducerSnapshotRef(objectKey, coversBefore, bytes.length, crc(ByteBuffer.wrap(bytes)));
    }

    /** A snapshot without any producer, covering the commits before {@code coversBefore}. */
    public static ProducerSnapshotRef empty(long coversBefore) {
        return new ProducerSnapshotRef("", coversBefore, 0, 0);
    }

    /** The same object, now covering the commits before {@code coversBefore} (they changed no producer). */
    public ProducerSnapshotRef covering(long coversBefore) {
        return new ProducerSnapshotRef(objectKey, coversBefore, length, crc32c);
    }

    /** Fails unless {@code bytes} (not consumed) are this snapshot's object as written (its length and CRC32C). */
    public void verify(ByteBuffer bytes) {
        if (bytes.remaining() != length || crc(bytes) != crc32c) {
            throw new MetadataException("producer snapshot " + objectKey + " does not match its reference ("
                    + bytes.remaining() + " bytes read, " + length + " written, or a checksum mismatch)", true);
        }
    }

    /** Whether the snapshot has an object (it is not empty). */
    public boolean hasObject() {
        return !objectKey.isEmpty();
    }

    private static int crc(ByteBuffer bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate());
        return (int) crc.getValue();
    }
}
