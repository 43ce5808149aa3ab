package io.strata.ingest;

import io.strata.format.BlockFormat;
import io.strata.ingest.block.ByteBudget;
import io.strata.ingest.block.ObjectKeys;
import io.strata.ingest.block.OpenBlock;
import io.strata.ingest.block.PendingAppend;
import io.strata.ingest.commit.BlockCommitter;
import io.strata.metadata.MetadataStore;
import io.strata.storage.object.ObjectStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The ingest node's produce path: appends validated batches to the one open block (all partitions), seals
 * it at {@code blockMaxBytes} or {@code blockLinger} after its first record (or, with {@code sealWhenIdle}, as
 * soon as no earlier block is on its way), and answers each call once its block is uploaded and committed.
 * Buffered bytes are bounded by {@code maxBufferedBytes}.
 *
 * <p>Owns three named threads: {@code strata-ingest-timer} (linger and buffer-wait timers), {@code
 * strata-ingest-seal} (compression) and {@code strata-ingest-answers} (committed blocks' calls answered), all shut
 * down by {@link #close()}. Thread-safe.
 */
public final class IngestPipeline implements AutoCloseable {
    /**
     * The most bytes a block's records may inflate to: a block is sealed before a call would take it past
     * this, so no chunk ever nears the format's limit ({@link BlockFormat#MAX_UNCOMPRESSED_CHUNK}, twice
     * this) and a block never fails whole at sealing because producers sent very compressible batches.
     */
    public static final long MAX_BLOCK_UNCOMPRESSED_BYTES = BlockFormat.MAX_UNCOMPRESSED_CHUNK / 2;

    private final IngestSettings settings;
    private final Clock clock;
    private final ScheduledExecutorService timer;
    private final ExecutorService sealExecutor;
    private final ExecutorService answerExecutor;
    private final ByteBudget budget;
    private final BlockCommitter committer;
    private final Object lock = new Object();
    private OpenBlock open;
    private long generation;
    /** Blocks submitted and not yet answered (under {@code lock}). */
    private int blocksOnTheirWay;
    private boolean closed;

    public IngestPipeline(IngestSettings settings, ObjectStore objects, MetadataStore metadata, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.timer = Executors.newSingleThreadScheduledExecutor(named("strata-ingest-timer"));
        this.sealExecutor = Executors.newSingleThreadExecutor(named("strata-ingest-seal"));
        this.answerExecutor = Executors.newSingleThreadExecutor(named("strata-ingest-answers"));
        this.budget = new ByteBudget(settings.maxBufferedBytes(), timer);
        this.committer = new BlockCommitter(objects, metadata, new ObjectKeys(settings.nodeId(), clock.millis()),
                sealExecutor, answerExecutor, settings.maxInflightBlocks(), settings.putHedgeAfter(),
                settings.putHedgeQuantile(), timer);
        this.open = new OpenBlock(generation, settings.compressionLevel());
    }

    public IngestSettings settings() {
        return settings;
    }

    /**
     * Appends one call's batches. With {@code durable} the answer carries offsets and comes after the commit;
     * otherwise it comes once the records are buffered, without offsets. Fails with
     * {@link java.util.concurrent.TimeoutException} when no buffer space frees up in time, and with
     * {@link IllegalStateException} once the pipeline is closing.
     */
    public CompletableFuture<List<AppendResult>> append(List<PartitionBatch> batches, boolean durable) {
        return append(batches, durable, new CompletableFuture<>());
    }

    /**
     * As {@link #append(List, boolean)}; {@code appended} completes once the call's records are in the open
     * block (or the call failed before that), which is when a later call may be appended behind it.
     */
    public CompletableFuture<List<AppendResult>> append(List<PartitionBatch> batches, boolean durable,
                                                        CompletableFuture<Void> appended) {
        return append(batches, durable, appended, null);
    }

    /**
     * As {@link #append(List, boolean, CompletableFuture)}, for batches holding the whole of a transaction that the
     * block's commit begins and commits with them ({@code oneWrite}; null: none).
     */
    public CompletableFuture<List<AppendResult>> append(List<PartitionBatch> batches, boolean durable,
                                                        CompletableFuture<Void> appended,
                                                        io.strata.metadata.OneWriteTransaction oneWrite) {
        long bytes = 0;
        long inflated = 0;
        for (PartitionBatch b : batches) {
            bytes += b.sizeUpperBound();
            inflated += b.uncompressedBytes();
        }
        long uncompressed = inflated;
        long reserved = bytes;
        CompletableFuture<Void> granted = budget.acquire(reserved, settings.bufferWait());
        granted.whenComplete((v, e) -> {
            if (e != null) {
                appended.complete(null);
            }
        });
        // Answered while it waits for room (its deadline): it gives its place up and its records go, rather than be
        // held unaccounted (the requests' bound counted it until its answer) and stored after its answer.
        appended.whenComplete((v, e) -> granted.cancel(false));
        return granted.thenCompose(v -> appendGranted(batches, durable, appended, oneWrite, reserved, uncompressed));
    }

    /**
     * {@link #append} once the call's bytes are reserved; a call answered meanwhile (its time ran out while it
     * waited) is dropped, never appended after its answer.
     */
    private CompletableFuture<List<AppendResult>> appendGranted(List<PartitionBatch> batches, boolean durable,
                                                                CompletableFuture<Void> appended,
                                                                io.strata.metadata.OneWriteTransaction oneWrite,
                                                                long reserved, long uncompressed) {
        PendingAppend call;
        boolean startLinger;
        long gen;
        // Blocks are detached and submitted under the lock so they reach the committer in seal order.
        synchronized (lock) {
            if (closed) {
                budget.release(reserved);
                appended.complete(null);
                return CompletableFuture.failedFuture(new IllegalStateException("ingest node is shutting down"));
            }
            if (appended.isDone()) {
                // Answered meanwhile (its time ran out while it waited for room, for its topic, or for the block
                // holding the transaction it was chained to), which let the stream's next request go: it must not
                // be stored after its answer, behind that one. (Not completed here to claim it: what waits on it
                // would run now, under the lock, and append ahead of it.)
                budget.release(reserved);
                return CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("answered before "
                        + "it could be appended"));
            }
            if (oneWrite != null && oneWrite.chained() && open.holdsTransactionOf(oneWrite.transactionalId())) {
                // Chained to a transaction of the open block: it stands on the record that block's commit writes,
                // so it goes into the next block, once this one is sealed (nothing seals it early).
                return whenSealed(open).handle((x, closing) -> {
                    if (closing == null) {
                        return appendGranted(batches, durable, appended, oneWrite, reserved, uncompressed);
                    }
                    budget.release(reserved);
                    appended.complete(null);
                    return CompletableFuture.<List<AppendResult>>failedFuture(closing);
                }).thenCompose(f -> f);
            }
            if (!open.isEmpty() && (open.uncompressedBytes() + uncompressed > MAX_BLOCK_UNCOMPRESSED_BYTES
                    || (oneWrite != null && open.oneWriteWouldOverflow(batches)))) {
                submit(detach());
            }
            startLinger = open.isEmpty();
            call = open.append(batches, reserved, oneWrite);
            gen = open.generation();
            if (open.bufferedBytes() >= settings.blockMaxBytes()
                    || (settings.sealWhenIdle() && blocksOnTheirWay == 0)) {
                submit(detach());
                startLinger = false;
            }
        }
        appended.complete(null);
        if (startLinger) {
            timer.schedule(() -> sealIfStill(gen), settings.blockLinger().toMillis(), TimeUnit.MILLISECONDS);
        }
        if (durable) {
            return call.future();
        }
        call.future().exceptionally(e -> null); // fire-and-forget: the caller accepted possible loss
        return CompletableFuture.completedFuture(call.unacknowledgedResults(clock.millis()));
    }

    /**
     * Completes on the timer's thread (outside the lock, so what follows appends as any call does) once {@code
     * block} is detached from the pipeline; fails once the pipeline is closed and the thread is gone.
     */
    private CompletableFuture<Void> whenSealed(OpenBlock block) {
        CompletableFuture<Void> sealed = new CompletableFuture<>();
        block.detached().whenComplete((v, e) -> {
            try {
                timer.execute(() -> sealed.complete(null));
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                sealed.completeExceptionally(new IllegalStateException("ingest node is shutting down"));
            }
        });
        return sealed;
    }

    /** Seals the open block now; completes when every block sealed so far is answered (either way). */
    public CompletableFuture<Void> flush() {
        synchronized (lock) {
            if (!open.isEmpty()) {
                submit(detach());
            }
            return committer.drained();
        }
    }

    /** Bytes held now (open block plus blocks on their way), for metrics. */
    public long bufferedBytes() {
        return budget.used();
    }

    public BlockCommitter committer() {
        return committer;
    }

    private void sealIfStill(long gen) {
        synchronized (lock) {
            if (open.generation() == gen && !open.isEmpty()) {
                submit(detach());
            }
        }
    }

    private OpenBlock detach() {
        OpenBlock full = open;
        open = new OpenBlock(++generation, settings.compressionLevel());
        full.detached().complete(null);
        return full;
    }

    private void onAnswerThread(Runnable task) {
        try {
            answerExecutor.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            task.run();
        }
    }

    /** Called under {@code lock}. */
    private void submit(OpenBlock block) {
        CompletableFuture<Void> answered = committer.submit(block);
        blocksOnTheirWay++; // only once submitted: a submit that throws leaves nothing to count down
        // Its buffer room comes back once no PUT holds its bytes (a hedged PUT's loser may still be out), on the
        // answer thread: the release grants waiting calls their room, and they must not run on the store's.
        CompletableFuture.allOf(answered, block.uploadsSettled())
                .whenCompleteAsync((v, e) -> budget.release(block.reservedBytes()), this::onAnswerThread);
        answered.whenComplete((v, e) -> {
            synchronized (lock) {
                blocksOnTheirWay--;
                // Group commit: what arrived while this block was on its way goes now, not at the linger's end.
                if (settings.sealWhenIdle() && blocksOnTheirWay == 0 && !open.isEmpty() && !closed) {
                    submit(detach());
                }
            }
        });
    }

    /** Seals what is buffered, waits (bounded) until every block is answered, then stops the threads. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (!open.isEmpty()) {
                submit(detach());
            }
        }
        try {
            committer.drained().get(settings.produceTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // Calls still in flight fail on their own (store timeouts); nothing more to wait for.
        } finally {
            sealExecutor.shutdown();
            answerExecutor.shutdown();
            timer.shutdownNow();
        }
    }

    static java.util.concurrent.ThreadFactory named(String name) {
        return runnable -> {
            Thread t = new Thread(runnable, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** For tests and metrics: the configured linger. */
    public Duration linger() {
        return settings.blockLinger();
    }
}
