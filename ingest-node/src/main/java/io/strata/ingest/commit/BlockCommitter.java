package io.strata.ingest.commit;

import io.strata.ingest.block.OpenBlock;
import io.strata.metadata.BlockChunk;
import io.strata.metadata.BlockCommit;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.ChunkCommit;
import io.strata.metadata.PartitionId;
import io.strata.format.ChunkEntry;
import io.strata.format.SealedBlock;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import io.strata.ingest.block.AsyncPermits;
import io.strata.ingest.block.ObjectKeys;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * Takes full blocks through seal → upload → commit → acknowledge. Up to {@code maxInflightBlocks} blocks are
 * on their way at once, so uploads of consecutive blocks overlap; commits happen one at a time in seal order, so a partition's offsets follow the order its records were
 * appended on this node. A block whose upload or commit fails fails every call in it (never a false
 * acknowledgement); its object, if uploaded, is an orphan for the compaction job to collect.
 *
 * <p>Threads: compression runs on the {@code sealExecutor} its owner (the pipeline) gives; uploads and
 * commits run on the stores' own threads. Thread-safe.
 */
public final class BlockCommitter {
    private final ObjectStore objects;
    private final MetadataStore metadata;
    private final ObjectKeys keys;
    private final Executor sealExecutor;
    private final AsyncPermits inflight;
    private final java.time.Duration hedgeAfter;
    private final java.util.concurrent.ScheduledExecutorService timer;
    private final LongAdder hedgedPuts = new LongAdder();
    private volatile BlockTimings timings = BlockTimings.NONE;
    private volatile UploadedBlocks handOff = UploadedBlocks.NONE;
    private final LongAdder blocksCommitted = new LongAdder();
    private final LongAdder blocksFailed = new LongAdder();
    private final LongAdder handOffFailures = new LongAdder();
    private final LongAdder bytesUploaded = new LongAdder();
    private CompletableFuture<Void> commitTail = CompletableFuture.completedFuture(null);

    /** {@code timer} (the caller's) starts hedged PUTs after {@code hedgeAfter} (zero: no hedging). */
    public BlockCommitter(ObjectStore objects, MetadataStore metadata, ObjectKeys keys, Executor sealExecutor,
                          int maxInflightBlocks, java.time.Duration hedgeAfter,
                          java.util.concurrent.ScheduledExecutorService timer) {
        this.objects = objects;
        this.metadata = metadata;
        this.keys = keys;
        this.sealExecutor = sealExecutor;
        this.inflight = new AsyncPermits(maxInflightBlocks);
        this.hedgeAfter = hedgeAfter;
        this.timer = timer;
    }

    /** Where committed blocks' time goes from now on. */
    public void timings(BlockTimings timings) {
        this.timings = timings;
    }

    /** Who is told of each uploaded block from now on (see {@link UploadedBlocks}). */
    public void handOff(UploadedBlocks handOff) {
        this.handOff = handOff;
    }

    /** Starts the block on its way; the answer completes once its calls are answered (either way). */
    public synchronized CompletableFuture<Void> submit(OpenBlock block) {
        long[] at = new long[5]; // submitted, sealed, uploaded, commit started, committed
        at[0] = System.nanoTime();
        CompletableFuture<UploadedBlock> uploaded = inflight.acquire()
                .thenApplyAsync(v -> {
                    SealedBlock sealed = block.writer().seal();
                    at[1] = System.nanoTime();
                    return sealed;
                }, sealExecutor)
                .thenCompose(sealed -> upload(sealed, block))
                .thenApply(u -> {
                    at[2] = System.nanoTime();
                    return u;
                });
        CompletableFuture<Void> done = commitTail
                .thenCompose(previous -> uploaded)
                .thenCompose(u -> {
                    at[3] = System.nanoTime();
                    return commit(u);
                })
                .handle((committed, failure) -> {
                    inflight.release();
                    if (failure != null) {
                        blocksFailed.increment();
                        block.fail(unwrap(failure));
                    } else {
                        at[4] = System.nanoTime();
                        blocksCommitted.increment();
                        block.complete(committed);
                        timings.committed(at[1] - at[0], at[2] - at[1], at[3] - at[2], at[4] - at[3]);
                    }
                    return null;
                });
        commitTail = done;
        return done;
    }

    /** Completes when every block submitted so far is answered. */
    public synchronized CompletableFuture<Void> drained() {
        return commitTail;
    }

    public long blocksCommitted() {
        return blocksCommitted.sum();
    }

    public long blocksFailed() {
        return blocksFailed.sum();
    }

    /** Uploaded blocks whose hand-off to fetch nodes failed before it started. */
    public long handOffFailures() {
        return handOffFailures.sum();
    }

    public long bytesUploaded() {
        return bytesUploaded.sum();
    }

    /** Second PUTs started because a block's first had not answered in time. */
    public long hedgedPuts() {
        return hedgedPuts.sum();
    }

    private record UploadedBlock(ObjectKey key, SealedBlock block, OpenBlock source) {
    }

    private CompletableFuture<UploadedBlock> upload(SealedBlock sealed, OpenBlock source) {
        return HedgedPut.put(objects, keys::nextWalKey, sealed.bytes(), hedgeAfter, timer, hedgedPuts).thenApply(key -> {
            bytesUploaded.add(sealed.sizeBytes());
            handOver(key, sealed);
            return new UploadedBlock(key, sealed, source);
        });
    }

    private CompletableFuture<Map<PartitionId, ChunkCommit>> commit(UploadedBlock uploaded) {
        List<BlockChunk> chunks = new ArrayList<>(uploaded.block.chunks().size());
        for (ChunkEntry c : uploaded.block.chunks()) {
            PartitionId partition = new PartitionId(c.topicId(), c.partition());
            chunks.add(new BlockChunk(partition, c.recordCount(), c.byteOffset(), c.byteLength(),
                    c.uncompressedLength(), c.minTimestampMs(), c.maxTimestampMs(), c.crc32c(),
                    uploaded.source.producerBatches(partition)));
        }
        BlockCommit commit = new BlockCommit(uploaded.key.value(), uploaded.block.sizeBytes(), chunks);
        return metadata.commitBlock(commit).thenApply(answers -> {
            Map<PartitionId, ChunkCommit> byPartition = new HashMap<>();
            for (ChunkCommit c : answers) {
                byPartition.put(c.partition(), c);
            }
            return byPartition;
        });
    }

    private void handOver(ObjectKey key, SealedBlock sealed) {
        try {
            handOff.uploaded(key.value(), sealed);
        } catch (RuntimeException e) {
            handOffFailures.increment(); // the fetch nodes read these chunks with a GET instead
        }
    }

    private static Throwable unwrap(Throwable t) {
        while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
