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
 * on their way at once, so uploads of consecutive blocks overlap; commits happen one at a time in seal order,
 * so a partition's offsets follow the order its records were appended on this node. Blocks uploaded while an
 * earlier one's PUT was slow wait for it, then commit together with it in one transaction
 * ({@link MetadataStore#commitBlocks}) rather than one round trip each. A block whose upload or commit fails
 * fails every call in it (never a false acknowledgement); its object, if uploaded, is an orphan for the
 * compaction job to collect.
 *
 * <p>Threads: compression runs on the {@code sealExecutor} its owner (the pipeline) gives, and the answers to
 * committed blocks' calls on its {@code answerExecutor} (one thread: in commit order), off the metadata store's
 * thread (on the embedded store, its one writer: answering there held back the next commit's write while the
 * calls' callbacks ran); uploads and commits run on the stores' own threads.
 * Thread-safe.
 */
public final class BlockCommitter {
    /** Blocks committed in one call at most (the store may take fewer: those that fit in one transaction). */
    static final int MAX_BLOCKS_PER_COMMIT = 16;
    private final ObjectStore objects;
    private final MetadataStore metadata;
    private final ObjectKeys keys;
    private final Executor sealExecutor;
    private final Executor answerExecutor;
    private final AsyncPermits inflight;
    private final HedgedPut puts;
    private volatile BlockTimings timings = BlockTimings.NONE;
    private volatile UploadedBlocks handOff = UploadedBlocks.NONE;
    private final LongAdder blocksCommitted = new LongAdder();
    private final LongAdder blocksFailed = new LongAdder();
    private final LongAdder handOffFailures = new LongAdder();
    private final LongAdder bytesUploaded = new LongAdder();
    /** Blocks submitted and not yet taken to commit, in seal order. */
    private final java.util.ArrayDeque<Pending> queue = new java.util.ArrayDeque<>();
    private final java.util.Set<CompletableFuture<Void>> unanswered = new java.util.HashSet<>();
    private boolean committing;

    /**
     * {@code timer} (the caller's) starts hedged PUTs after the longer of {@code hedgeAfter} and the {@code
     * hedgeQuantile} of recent PUTs' latencies, plus the block's bytes at {@link HedgedPut#ALLOWED_BYTES_PER_SECOND}
     * ({@code hedgeAfter} zero: no hedging; {@code hedgeQuantile} zero: after {@code hedgeAfter} alone).
     */
    public BlockCommitter(ObjectStore objects, MetadataStore metadata, ObjectKeys keys, Executor sealExecutor,
                          Executor answerExecutor, int maxInflightBlocks, java.time.Duration hedgeAfter,
                          double hedgeQuantile, java.util.concurrent.ScheduledExecutorService timer) {
        this.objects = objects;
        this.metadata = metadata;
        this.keys = keys;
        this.sealExecutor = sealExecutor;
        this.answerExecutor = answerExecutor;
        this.inflight = new AsyncPermits(maxInflightBlocks);
        this.puts = new HedgedPut(objects, hedgeAfter, hedgeQuantile, timer);
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
    public CompletableFuture<Void> submit(OpenBlock block) {
        Pending pending = new Pending(block, System.nanoTime());
        CompletableFuture<Void> permit;
        synchronized (this) { // permits go first come, first served: in the queue's order, so none waits on a later one
            queue.add(pending);
            unanswered.add(pending.answered);
            permit = inflight.acquire();
        }
        permit.thenApplyAsync(v -> {
                    SealedBlock sealed = block.writer().seal();
                    pending.sealedAt = System.nanoTime();
                    return sealed;
                }, this::sealOn)
                .thenCompose(sealed -> upload(sealed, block, pending))
                .whenComplete((u, failure) -> {
                    if (!pending.putStarted) {
                        block.uploadsSettled().complete(null); // never sealed or never sent: no PUT holds its bytes
                    }
                    pending.uploadedAt = System.nanoTime();
                    pending.uploadFailure = failure; // before the completion that pump() looks for
                    pending.uploaded.complete(u);
                    pump();
                });
        return pending.answered;
    }

    /**
     * Seals on the seal executor, or here once it stopped taking work (the pipeline closing after its drain ran
     * out): a rejection thrown into the release of the permit before would have cut that block's answers short,
     * and this block would never have been answered.
     */
    private void sealOn(Runnable seal) {
        try {
            sealExecutor.execute(seal);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            seal.run();
        }
    }

    /** Blocks uploaded and waiting for an earlier block's upload or commit (a gauge). */
    public synchronized int blocksAwaitingCommit() {
        int n = 0;
        for (Pending p : queue) {
            n += p.uploaded.isDone() && p.uploadFailure == null ? 1 : 0;
        }
        return n;
    }

    /** Completes when every block submitted so far is answered. */
    public synchronized CompletableFuture<Void> drained() {
        return CompletableFuture.allOf(unanswered.toArray(CompletableFuture[]::new));
    }

    /** One block from submission to its answer. Fields are written before {@code uploaded} completes. */
    private static final class Pending {
        final OpenBlock block;
        final long submittedAt;
        volatile long sealedAt;
        volatile long uploadedAt;
        volatile Throwable uploadFailure;
        /** Set before the block's PUTs start: from then on they complete its {@code uploadsSettled}. */
        volatile boolean putStarted;
        final CompletableFuture<UploadedBlock> uploaded = new CompletableFuture<>();
        final CompletableFuture<Void> answered = new CompletableFuture<>();

        Pending(OpenBlock block, long submittedAt) {
            this.block = block;
            this.submittedAt = submittedAt;
        }
    }

    /**
     * Commits the uploaded blocks at the head of the queue, unless a commit is under way (its end pumps again):
     * blocks whose upload failed are answered as they come, the uploaded ones up to the first still uploading
     * are committed in one call. Called whenever an upload or a commit ends.
     */
    private void pump() {
        List<Pending> failed = new ArrayList<>();
        List<Pending> group = new ArrayList<>();
        synchronized (this) {
            if (committing) {
                return;
            }
            while (!queue.isEmpty() && queue.peekFirst().uploaded.isDone() && group.size() < MAX_BLOCKS_PER_COMMIT) {
                Pending head = queue.pollFirst();
                (head.uploadFailure != null ? failed : group).add(head);
            }
            committing = !group.isEmpty();
        }
        if (!failed.isEmpty()) {
            answerInOrder(() -> failed.forEach(p -> answer(p, null, p.uploadFailure, 0)));
        }
        if (group.isEmpty()) {
            return;
        }
        long commitStarted = System.nanoTime();
        CompletableFuture<List<Map<PartitionId, ChunkCommit>>> outcome;
        try {
            outcome = commit(group);
        } catch (RuntimeException e) { // the queue must move on whatever happens
            outcome = CompletableFuture.failedFuture(e);
        }
        outcome.whenComplete((answers, failure) -> {
            int committed = failure != null ? group.size() : answers.size();
            try {
                Runnable answerAll = () -> {
                    for (int i = 0; i < committed; i++) {
                        answer(group.get(i), failure == null ? answers.get(i) : null, failure, commitStarted);
                    }
                };
                answerInOrder(answerAll);
            } finally { // the queue must not stall
                synchronized (this) {
                    for (int i = group.size() - 1; i >= committed; i--) {
                        queue.addFirst(group.get(i)); // the store committed a first run of them: the rest go next
                    }
                    committing = false;
                }
                pump();
            }
        });
    }

    /** Runs {@code answers} on the answer thread, after those given before. */
    private void answerInOrder(Runnable answers) {
        try {
            answerExecutor.execute(answers);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            answers.run(); // the pipeline is closing: answered here
        }
    }

    /** Answers the block's calls; whatever they throw, its permit is released and its answer completes. */
    private void answer(Pending p, Map<PartitionId, ChunkCommit> committed, Throwable failure, long commitStarted) {
        inflight.release(); // the next block goes; its sealing is never refused into this thread (sealOn)
        try {
            if (failure != null) {
                blocksFailed.increment();
                p.block.fail(unwrap(failure));
            } else {
                long now = System.nanoTime();
                blocksCommitted.increment();
                p.block.complete(committed);
                timings.committed(p.sealedAt - p.submittedAt, p.uploadedAt - p.sealedAt,
                        commitStarted - p.uploadedAt, now - commitStarted);
            }
        } catch (Throwable e) { // whatever a block's calls throw, the blocks after it are answered
            p.answered.completeExceptionally(e);
        } finally {
            synchronized (this) {
                unanswered.remove(p.answered);
            }
            p.answered.complete(null);
        }
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
        return puts.hedges();
    }

    /** How long a PUT of a small block may take now before it is sent again (zero: never; see {@link HedgedPut}). */
    public java.time.Duration hedgeAfter() {
        return puts.after();
    }

    /** @param uploadedAtMs when its upload was answered (wall clock): how old it is when committed */
    private record UploadedBlock(ObjectKey key, SealedBlock block, OpenBlock source, long uploadedAtMs) {
    }

    private CompletableFuture<UploadedBlock> upload(SealedBlock sealed, OpenBlock source, Pending pending) {
        pending.putStarted = true;
        return puts.put(keys::nextWalKey, sealed.bytes(), source.uploadsSettled()).thenApply(key -> {
            bytesUploaded.add(sealed.sizeBytes());
            handOver(key, sealed);
            return new UploadedBlock(key, sealed, source, System.currentTimeMillis());
        });
    }

    /** Commits a first run of the group (at least one block): its answers, by block, by partition. */
    private CompletableFuture<List<Map<PartitionId, ChunkCommit>>> commit(List<Pending> group) {
        List<BlockCommit> commits = new ArrayList<>(group.size());
        for (Pending p : group) {
            UploadedBlock uploaded = p.uploaded.join(); // done: pump() takes only uploaded blocks
            List<BlockChunk> chunks = new ArrayList<>(uploaded.block.chunks().size());
            for (ChunkEntry c : uploaded.block.chunks()) {
                PartitionId partition = new PartitionId(c.topicId(), c.partition());
                chunks.add(new BlockChunk(partition, c.recordCount(), c.byteOffset(), c.byteLength(),
                        c.uncompressedLength(), c.minTimestampMs(), c.maxTimestampMs(), c.crc32c(),
                        uploaded.source.producerBatches(partition)));
            }
            commits.add(new BlockCommit(uploaded.key.value(), uploaded.block.sizeBytes(), chunks,
                    uploaded.source.transactions(), uploaded.uploadedAtMs()));
        }
        return metadata.commitBlocks(commits).thenApply(byBlock -> {
            if (byBlock.isEmpty() || byBlock.size() > commits.size()) {
                throw new IllegalStateException("the metadata store answered for " + byBlock.size() + " of "
                        + commits.size() + " blocks");
            }
            return byBlock;
        }).thenApply(byBlock -> byBlock.stream().map(blockAnswers -> {
            Map<PartitionId, ChunkCommit> byPartition = new HashMap<>();
            for (ChunkCommit c : blockAnswers) {
                byPartition.put(c.partition(), c);
            }
            return byPartition;
        }).toList());
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
