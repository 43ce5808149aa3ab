package io.strata.compaction.exec;

import io.strata.format.BlockFormatException;
import io.strata.format.ChunkCodec;
import io.strata.metadata.ChunkRef;
import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reads the stored bytes of a segment's source chunks: neighbouring chunks of one object (a segment's, which
 * lie back to back) in one ranged GET of at most {@code maxGetBytes}, at most {@code parallelism} GETs at a
 * time. Every chunk's CRC32C is checked; one that fails is read again on its own (damage on the way) up to
 * {@link #ATTEMPTS} times before the build fails. Thread-safe.
 */
final class SourceReader {
    static final int ATTEMPTS = 3;
    private static final long MAX_GAP = 1 << 20;

    private final ObjectStore objects;
    private final long maxGetBytes;
    private final int parallelism;
    private final LongAdder gets = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder damaged = new LongAdder();

    SourceReader(ObjectStore objects, long maxGetBytes, int parallelism) {
        this.objects = objects;
        this.maxGetBytes = maxGetBytes;
        this.parallelism = parallelism;
    }

    /** The sources' stored bytes, answer i for source i, each checked. */
    CompletableFuture<List<ByteBuffer>> read(List<ChunkRef> sources) {
        ByteBuffer[] out = new ByteBuffer[sources.size()];
        List<int[]> ranges = new ArrayList<>(); // {first, last} source indexes read by one GET
        int from = 0;
        for (int i = 1; i <= sources.size(); i++) {
            if (i == sources.size() || !adjacent(sources.get(from), sources.get(i - 1), sources.get(i))) {
                ranges.add(new int[] {from, i - 1});
                from = i;
            }
        }
        Semaphore slots = new Semaphore(parallelism);
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        for (int[] range : ranges) {
            slots.acquireUninterruptibly();
            CompletableFuture<Void> read = readRange(sources, range[0], range[1], out, 1);
            read.whenComplete((v, e) -> slots.release());
            reads.add(read);
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> List.of(out));
    }

    private boolean adjacent(ChunkRef first, ChunkRef previous, ChunkRef next) {
        return next.objectKey().equals(previous.objectKey())
                && next.byteOffset() >= previous.byteOffset() + previous.byteLength()
                && next.byteOffset() - (previous.byteOffset() + previous.byteLength()) <= MAX_GAP
                && next.byteOffset() + next.byteLength() - first.byteOffset() <= maxGetBytes;
    }

    private CompletableFuture<Void> readRange(List<ChunkRef> sources, int first, int last, ByteBuffer[] out,
                                              int attempt) {
        ChunkRef start = sources.get(first);
        ChunkRef end = sources.get(last);
        long from = start.byteOffset();
        long length = end.byteOffset() + end.byteLength() - from;
        gets.increment();
        return objects.get(ObjectKey.of(start.objectKey()), ByteRange.of(from, length)).thenCompose(bytes -> {
            bytesRead.add(bytes.remaining());
            List<CompletableFuture<Void>> again = new ArrayList<>();
            for (int i = first; i <= last; i++) {
                ChunkRef c = sources.get(i);
                int offset = Math.toIntExact(c.byteOffset() - from);
                try {
                    if (bytes.remaining() < offset + c.byteLength()) {
                        throw new BlockFormatException(BlockFormatException.Reason.TRUNCATED, "chunk of "
                                + c.objectKey() + " @" + c.byteOffset() + " is past the end of what was read");
                    }
                    ByteBuffer chunk = bytes.duplicate().position(bytes.position() + offset).slice()
                            .limit(c.byteLength());
                    ChunkCodec.verify(chunk, c.crc32c());
                    out[i] = chunk;
                } catch (BlockFormatException e) {
                    damaged.increment();
                    if (attempt >= ATTEMPTS) {
                        return CompletableFuture.failedFuture(e);
                    }
                    again.add(readRange(sources, i, i, out, attempt + 1));
                }
            }
            return CompletableFuture.allOf(again.toArray(CompletableFuture[]::new));
        });
    }

    long gets() {
        return gets.sum();
    }

    long bytesRead() {
        return bytesRead.sum();
    }

    /** Chunks that failed their check on arrival (each read again). */
    long damaged() {
        return damaged.sum();
    }
}
