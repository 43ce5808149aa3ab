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

    /**
     * The first chunk that ends after {@code from} and whose newest record is at or after {@code timestampMs}, if
     * any: {@code from} is the log start or past it, so nothing before the start is answered.
     */
    public CompletableFuture<ChunkRef> firstChunkAtOrAfter(PartitionIndex partition, long timestampMs, long from) {
        List<IndexRef> refs = new ArrayList<>();
        partition.refs().forEach(refs::add);
        return firstChunkAtOrAfter(refs, 0, timestampMs, from);
    }

    private CompletableFuture<ChunkRef> firstChunkAtOrAfter(List<IndexRef> refs, int first, long timestampMs,
                                                            long from) {
        for (int i = first; i < refs.size(); i++) {
            IndexRef ref = refs.get(i);
            if (ref instanceof ChunkRef chunk && chunk.endOffset() > from && chunk.maxTimestampMs() >= timestampMs) {
                return CompletableFuture.completedFuture(chunk);
            }
            if (ref instanceof SegmentRef segment && segment.endOffset() > from && segment.maxTimestampMs() >= timestampMs) {
                int next = i + 1;
                return footers.chunks(segment).thenCompose(all -> {
                    ChunkRef found = all.subList(segment.firstChunk(), all.size()).stream()
                            .filter(c -> c.endOffset() > from && c.maxTimestampMs() >= timestampMs).findFirst()
                            .orElse(null);
                    // The segment's newest record may be in a chunk before the start: the answer is further on.
                    return found != null ? CompletableFuture.completedFuture(found)
                            : firstChunkAtOrAfter(refs, next, timestampMs, from);
                });
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
