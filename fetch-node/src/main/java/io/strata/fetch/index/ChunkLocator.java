package io.strata.fetch.index;

import io.strata.metadata.ChunkRef;
import io.strata.metadata.IndexRef;
import io.strata.metadata.SegmentRef;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Finds the chunks that hold a partition's offsets, whether they sit in WAL blocks (the index lists them)
 * or in segments (the segment's footer does, read through {@link SegmentFooters}). Stateless beyond the
 * view and footers it is given; thread-safe.
 */
public final class ChunkLocator {
    private final SegmentFooters footers;

    public ChunkLocator(SegmentFooters footers) {
        this.footers = footers;
    }

    /**
     * The chunks from the one holding {@code offset} on, in offset order, as many as needed to reach
     * {@code maxBytes} of uncompressed records (at least one); empty when no chunk holds {@code offset}.
     */
    public CompletableFuture<List<ChunkRef>> chunksFrom(PartitionIndex partition, long offset, long maxBytes) {
        return collect(partition.refsFrom(offset).iterator(), offset, maxBytes, new ArrayList<>(), 0);
    }

    private CompletableFuture<List<ChunkRef>> collect(Iterator<IndexRef> refs, long offset, long maxBytes,
                                                      List<ChunkRef> out, long bytes) {
        while (refs.hasNext() && (out.isEmpty() || bytes < maxBytes)) {
            IndexRef ref = refs.next();
            if (ref instanceof ChunkRef chunk) {
                out.add(chunk);
                bytes += chunk.uncompressedLength();
                continue;
            }
            SegmentRef segment = (SegmentRef) ref;
            long before = bytes;
            return footers.chunks(segment).thenCompose(all -> {
                long sum = before;
                long from = Math.max(offset, segment.baseOffset());
                for (ChunkRef c : all.subList(segment.firstChunk(), all.size())) {
                    if (c.endOffset() <= from) {
                        continue;
                    }
                    if (!out.isEmpty() && sum >= maxBytes) {
                        break;
                    }
                    out.add(c);
                    sum += c.uncompressedLength();
                }
                return collect(refs, offset, maxBytes, out, sum);
            });
        }
        return CompletableFuture.completedFuture(out);
    }

    /** The first chunk whose newest record is at or after {@code timestampMs}, if any. */
    public CompletableFuture<ChunkRef> firstChunkAtOrAfter(PartitionIndex partition, long timestampMs) {
        for (IndexRef ref : partition.refs()) {
            if (ref instanceof ChunkRef chunk && chunk.maxTimestampMs() >= timestampMs) {
                return CompletableFuture.completedFuture(chunk);
            }
            if (ref instanceof SegmentRef segment && segment.maxTimestampMs() >= timestampMs) {
                return footers.chunks(segment).thenApply(all -> all.subList(segment.firstChunk(), all.size()).stream()
                        .filter(c -> c.maxTimestampMs() >= timestampMs).findFirst().orElse(null));
            }
        }
        return CompletableFuture.completedFuture(null);
    }

    /**
     * The chunks of {@code objectKey} that a GET may take along: a WAL block's held chunks, or a segment's
     * chunks from {@code logStart} on if its footer is held. Reads nothing.
     */
    public List<ChunkRef> chunksOfObject(IndexView index, String objectKey, long logStart) {
        java.util.Collection<ChunkRef> wal = index.chunksOfObject(objectKey);
        if (!wal.isEmpty()) {
            return List.copyOf(wal);
        }
        return footers.ifPresent(objectKey).stream().filter(c -> c.baseOffset() >= logStart).toList();
    }
}
