package io.strata.fetch.index;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.strata.format.BlockFormatException;
import io.strata.format.SegmentChunk;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.SegmentRef;
import io.strata.storage.object.ObjectStore;
import io.strata.storage.segment.SegmentFooterReader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Segments' chunk lists, read from their footers ({@link SegmentFooterReader}: one checked ranged GET, read
 * again when damaged on the way) and kept, bounded by the number of chunks held: the index holds one entry
 * per segment, this holds where its chunks are. A footer is read once however many readers want it at once.
 *
 * <p>Threads: reads complete on the object store's threads. Thread-safe.
 */
public final class SegmentFooters {
    private final SegmentFooterReader reader;
    private final AsyncCache<String, List<ChunkRef>> footers;

    /** At most {@code maxChunks} chunks' refs held (a segment of 128 MiB has about 250). */
    public SegmentFooters(ObjectStore objects, long maxChunks) {
        this.reader = new SegmentFooterReader(objects);
        this.footers = Caffeine.newBuilder().maximumWeight(maxChunks)
                .weigher((String key, List<ChunkRef> chunks) -> chunks.size()).buildAsync();
    }

    /** Every chunk of the segment's footer, in offset order (index i is footer chunk i, live or not). */
    public CompletableFuture<List<ChunkRef>> chunks(SegmentRef segment) {
        return footers.get(segment.objectKey(), (key, executor) -> reader.read(segment.objectKey(),
                segment.footerOffset(), segment.footerLength(), segment.footerCrc32c())
                .thenApply(chunks -> toRefs(segment, chunks)));
    }

    /** Every chunk of the segment object if its footer is held, else empty (for callers that must not wait). */
    public List<ChunkRef> ifPresent(String objectKey) {
        CompletableFuture<List<ChunkRef>> held = footers.getIfPresent(objectKey);
        if (held == null || !held.isDone() || held.isCompletedExceptionally()) {
            return List.of();
        }
        return held.join();
    }

    private static List<ChunkRef> toRefs(SegmentRef segment, List<SegmentChunk> chunks) {
        if (chunks.size() != segment.chunkCount()) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "segment " + segment.objectKey()
                    + " lists " + chunks.size() + " chunks, its index entry " + segment.chunkCount());
        }
        List<ChunkRef> refs = new ArrayList<>(chunks.size());
        for (SegmentChunk c : chunks) {
            if (c.entry().topicId() != segment.partition().topicId()
                    || c.entry().partition() != segment.partition().partition()) {
                throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "segment "
                        + segment.objectKey() + " holds another partition than its index entry says");
            }
            refs.add(ChunkRef.of(segment.partition(), segment.objectKey(), c));
        }
        return List.copyOf(refs);
    }

    /** Footer GETs issued. */
    public long reads() {
        return reader.reads();
    }

    /** Footer reads that failed their check (each read again, up to {@link SegmentFooterReader#ATTEMPTS}). */
    public long corrupt() {
        return reader.corrupt();
    }
}
