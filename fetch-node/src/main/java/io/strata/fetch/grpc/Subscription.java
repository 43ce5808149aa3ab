package io.strata.fetch.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.strata.api.v1.SubscribeRequest;
import io.strata.api.v1.SubscribeResponse;
import io.strata.fetch.index.IndexView;
import io.strata.metadata.PartitionId;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * One Subscribe stream: reads the partition from the requested offset and pushes what it finds, one message
 * at a time, preparing the next only once gRPC says the client can take it ({@code isReady}). So a slow
 * consumer holds at most one prepared message on this node, and a fast one is pushed to as soon as the
 * commit that extends the partition is seen (the index watch wakes the wait; nothing polls).
 *
 * <p>Threads: steps run on {@code executor} (never on the gRPC or watch thread that triggered them, so a
 * chain of cache hits cannot grow the stack); at most one step runs at a time.
 */
public final class Subscription {
    /** How long one wait at the end of the partition lasts before the stream looks again (and at cancellation). */
    private static final Duration END_WAIT = Duration.ofSeconds(30);

    private final FetchHandler handler;
    private final IndexView index;
    private final SubscribeRequest request;
    private final ServerCallStreamObserver<SubscribeResponse> out;
    private final Executor executor;
    private final Function<Throwable, ? extends Throwable> toStatus;
    private final java.util.function.Supplier<? extends RuntimeException> permission;
    /** The request's filter (ALL without one), or null when it does not parse: {@link #refused} says why. */
    private final io.strata.queues.filter.RecordFilter filter;
    private final RuntimeException refused;
    /** Only committed records: the stream stops at the last stable offset and leaves aborted records out. */
    private final boolean readCommitted;
    private PartitionId pid;
    private long offset;
    private boolean stepping;
    private boolean finished;
    private CompletableFuture<Boolean> waiting;

    Subscription(FetchHandler handler, IndexView index, SubscribeRequest request,
                 ServerCallStreamObserver<SubscribeResponse> out, Executor executor,
                 Function<Throwable, ? extends Throwable> toStatus,
                 java.util.function.Supplier<? extends RuntimeException> permission) {
        this.toStatus = toStatus;
        this.permission = permission;
        this.handler = handler;
        this.index = index;
        this.request = request;
        this.out = out;
        this.executor = executor;
        this.offset = request.getOffset();
        io.strata.queues.filter.RecordFilter parsed = io.strata.queues.filter.RecordFilter.ALL;
        RuntimeException bad = null;
        if (request.hasFilter()) {
            try {
                parsed = FetchHandler.filter(request.getFilter());
                if (request.getRawChunks() && !parsed.all()) {
                    bad = Status.INVALID_ARGUMENT.withDescription("raw chunks are whole stored chunks and cannot be "
                            + "filtered: subscribe for decoded records to use a filter").asRuntimeException();
                }
            } catch (RuntimeException e) {
                bad = e;
            }
        }
        boolean committedOnly = false;
        if (bad == null) {
            try {
                committedOnly = FetchHandler.readCommitted(request.getIsolationLevel());
            } catch (RuntimeException unknown) {
                bad = unknown;
            }
        }
        this.readCommitted = committedOnly;
        this.filter = bad == null ? parsed : null;
        this.refused = bad;
    }

    void start() {
        handler.opened(this);
        out.setOnReadyHandler(this::schedule);
        out.setOnCancelHandler(this::cancelled);
        if (request.getOffset() < 0 || request.getMaxBytes() < 0) {
            finish(Status.INVALID_ARGUMENT.withDescription("offset and max_bytes must not be negative")
                    .asRuntimeException());
            return;
        }
        if (refused != null) {
            finish(refused);
            return;
        }
        handler.resolve(request.getTopic(), request.getPartition())
                .thenCompose(pid -> handler.checkRangeCatchingUp(request.getTopic(), pid, offset).thenApply(v -> pid))
                .whenCompleteAsync((resolved, failure) -> {
            if (failure != null) {
                finish(failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                        ? c.getCause() : failure);
                return;
            }
            synchronized (this) {
                pid = resolved;
            }
            schedule();
        }, executor);
    }

    private void schedule() {
        synchronized (this) {
            if (stepping || finished || pid == null || !out.isReady()) {
                return;
            }
            stepping = true;
        }
        executor.execute(this::step);
    }

    private void step() {
        RuntimeException refused = permission.get();
        if (refused != null) {
            stepDone(refused);
            return;
        }
        // The partition's index shard may have been dropped since the last step (bounded index): hold it again.
        index.load(pid).whenCompleteAsync((loaded, failure) -> {
            if (failure != null) {
                stepDone(failure);
            } else {
                stepLoaded();
            }
        }, executor);
    }

    private void stepLoaded() {
        int maxBytes = handler.maxBytes(request.getMaxBytes());
        java.util.function.ToLongFunction<io.strata.fetch.index.PartitionIndex> bound = handler.bound(pid,
                readCommitted, offset);
        if (bound.applyAsLong(index.partition(pid)) <= offset) {
            CompletableFuture<Boolean> wait = index.awaitBeyond(pid, offset, END_WAIT, bound);
            synchronized (this) {
                waiting = wait;
            }
            wait.whenCompleteAsync((grown, failure) -> stepDone(null), executor);
            return;
        }
        CompletableFuture<FetchHandler.ChunkRead> read;
        try {
            read = handler.readAvailable(pid, offset, maxBytes, readCommitted);
        } catch (RuntimeException e) {
            stepDone(e);
            return;
        }
        read.thenApply(handler::served).thenApply(this::message).whenCompleteAsync((message, failure) -> {
            if (failure == null) {
                synchronized (this) {
                    if (!finished) {
                        out.onNext(message);
                        offset = message.hasChunks() ? message.getChunks().getNextOffset()
                                : message.getRecords().getNextOffset();
                    }
                }
            }
            stepDone(failure);
        }, executor);
    }

    private SubscribeResponse message(FetchHandler.ChunkRead read) {
        return request.getRawChunks() ? SubscribeResponse.newBuilder().setChunks(FetchHandler.raw(read)).build()
                : SubscribeResponse.newBuilder().setRecords(handler.decoded(read, filter)).build();
    }

    private void stepDone(Throwable failure) {
        if (failure != null) {
            finish(failure);
            return;
        }
        synchronized (this) {
            stepping = false;
            waiting = null;
        }
        schedule();
    }

    private void finish(Throwable failure) {
        end(failure);
    }

    /** Ends the stream with {@code failure}'s status, unless it has ended already; true when this ended it. */
    boolean end(Throwable failure) {
        synchronized (this) {
            if (finished) {
                return false;
            }
            finished = true;
        }
        handler.closed(this);
        out.onError(toStatus.apply(failure));
        return true;
    }

    private void cancelled() {
        handler.closed(this);
        CompletableFuture<Boolean> wait;
        synchronized (this) {
            finished = true;
            wait = waiting;
        }
        if (wait != null) {
            wait.complete(false); // drops the waiter from the index view now rather than at its timeout
        }
    }
}
