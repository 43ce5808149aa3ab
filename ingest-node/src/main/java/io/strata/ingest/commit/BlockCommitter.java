package io.strata.ingest.commit;

import io.strata.ingest.block.OpenBlock;
import io.strata.metadata.BlockChunk;
import io.strata.metadata.BlockCommit;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.OffsetRange;
import io.strata.metadata.PartitionId;
import io.strata.storage.format.ChunkEntry;
import io.strata.storage.format.SealedBlock;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import io.strata.ingest.block.ObjectKeys;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * Takes full blocks through seal → upload → commit → acknowledge. Uploads of consecutive blocks overlap;
 * commits happen one at a time in seal order, so a partition's offsets follow the order its records were
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
    private final LongAdder blocksCommitted = new LongAdder();
    private final LongAdder blocksFailed = new LongAdder();
    private final LongAdder bytesUploaded = new LongAdder();
    private CompletableFuture<Void> commitTail = CompletableFuture.completedFuture(null);

    public BlockCommitter(ObjectStore objects, MetadataStore metadata, ObjectKeys keys, Executor sealExecutor) {
        this.objects = objects;
        this.metadata = metadata;
        this.keys = keys;
        this.sealExecutor = sealExecutor;
    }

    /** Starts the block on its way; the answer completes once its calls are answered (either way). */
    public synchronized CompletableFuture<Void> submit(OpenBlock block) {
        CompletableFuture<UploadedBlock> uploaded = CompletableFuture
                .supplyAsync(() -> block.writer().seal(), sealExecutor)
                .thenCompose(this::upload);
        CompletableFuture<Void> done = commitTail
                .thenCompose(previous -> uploaded)
                .thenCompose(this::commit)
                .handle((committed, failure) -> {
                    if (failure != null) {
                        blocksFailed.increment();
                        block.fail(unwrap(failure));
                    } else {
                        blocksCommitted.increment();
                        block.complete(committed);
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

    public long bytesUploaded() {
        return bytesUploaded.sum();
    }

    private record UploadedBlock(ObjectKey key, SealedBlock block) {
    }

    private CompletableFuture<UploadedBlock> upload(SealedBlock sealed) {
        ObjectKey key = keys.nextWalKey();
        return objects.put(key, sealed.bytes()).thenApply(v -> {
            bytesUploaded.add(sealed.sizeBytes());
            return new UploadedBlock(key, sealed);
        });
    }

    private CompletableFuture<Map<PartitionId, OffsetRange>> commit(UploadedBlock uploaded) {
        List<BlockChunk> chunks = new ArrayList<>(uploaded.block.chunks().size());
        for (ChunkEntry c : uploaded.block.chunks()) {
            chunks.add(new BlockChunk(new PartitionId(c.topicId(), c.partition()), c.recordCount(), c.byteOffset(),
                    c.byteLength(), c.uncompressedLength(), c.minTimestampMs(), c.maxTimestampMs(), c.crc32c()));
        }
        BlockCommit commit = new BlockCommit(uploaded.key.value(), uploaded.block.sizeBytes(), chunks);
        return metadata.commitBlock(commit).thenApply(ranges -> {
            Map<PartitionId, OffsetRange> byPartition = new HashMap<>();
            for (OffsetRange r : ranges) {
                byPartition.put(r.partition(), r);
            }
            return byPartition;
        });
    }

    private static Throwable unwrap(Throwable t) {
        while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
