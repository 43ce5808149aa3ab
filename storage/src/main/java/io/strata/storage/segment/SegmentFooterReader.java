package io.strata.storage.segment;

import io.strata.format.BlockFormatException;
import io.strata.format.SegmentChunk;
import io.strata.format.SegmentReader;
import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reads a segment's chunk list from its footer with one ranged GET, checked against the CRC32C its index
 * entry names. A footer that fails the check is read again (its bytes may have been damaged on the way) up
 * to {@link #ATTEMPTS} times in all before the failure stands: only then is the stored object corrupt.
 * Thread-safe.
 */
public final class SegmentFooterReader {
    public static final int ATTEMPTS = 3;

    private final ObjectStore objects;
    private final LongAdder reads = new LongAdder();
    private final LongAdder corrupt = new LongAdder();

    public SegmentFooterReader(ObjectStore objects) {
        this.objects = objects;
    }

    /** The chunks of the segment {@code objectKey} whose footer is {@code length} bytes at {@code offset}. */
    public CompletableFuture<List<SegmentChunk>> read(String objectKey, long offset, int length, int crc32c) {
        return read(ObjectKey.of(objectKey), offset, length, crc32c, 1);
    }

    private CompletableFuture<List<SegmentChunk>> read(ObjectKey key, long offset, int length, int crc32c,
                                                       int attempt) {
        reads.increment();
        return objects.get(key, ByteRange.of(offset, length)).thenCompose(bytes -> {
            try {
                return CompletableFuture.completedFuture(SegmentReader.readFooter(bytes, offset, crc32c));
            } catch (BlockFormatException e) {
                corrupt.increment();
                return attempt < ATTEMPTS ? read(key, offset, length, crc32c, attempt + 1)
                        : CompletableFuture.failedFuture(e);
            }
        });
    }

    /** Footer GETs issued. */
    public long reads() {
        return reads.sum();
    }

    /** Footer reads that failed their check. */
    public long corrupt() {
        return corrupt.sum();
    }
}
