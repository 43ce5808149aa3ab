package io.strata.fetch.grpc;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.Header;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.ListOffsetsResponse;
import io.strata.api.v1.RawChunk;
import io.strata.api.v1.SkippedRecords;
import io.strata.api.v1.SubscribeRequest;
import io.strata.api.v1.SubscribeResponse;
import io.strata.fetch.FetchSettings;
import io.strata.fetch.cache.ChunkCache;
import io.strata.fetch.index.ChunkLocator;
import io.strata.fetch.index.IndexView;
import io.strata.fetch.index.PartitionIndex;
import io.strata.format.BlockFormatException;
import io.strata.format.ChunkCodec;
import io.strata.format.LogRecord;
import io.strata.format.RecordHeader;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.PartitionId;
import io.strata.metadata.SkippedRange;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicCache;
import io.strata.metadata.TopicConfig;
import io.strata.queues.filter.RecordFilter;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Answers fetches and offset look-ups from the index view and the chunk cache. Request errors fail the
 * answer with a {@link StatusRuntimeException} carrying the precise status; storage failures pass through
 * for the gRPC layer to map. Thread-safe.
 */
public final class FetchHandler {
    /** The Subscribe streams open on this node, so that a node stopping can end them. */
    private final java.util.Set<Subscription> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final IndexView index;
    private final ChunkLocator locator;
    private final ChunkCache cache;
    private final TopicCache topics;
    private final FetchSettings settings;
    private final ReadStats readStats = new ReadStats();
    private final Executor afterWait;
    private final io.strata.fetch.txn.CommittedReads committed;
    /**
     * Partitions read on this node lately: with those it owns, their chunks are worth taking along when a
     * GET reads an object (the node's consumers will ask for them next).
     */
    private final Cache<PartitionId, Boolean> activeReads = Caffeine.newBuilder()
            .expireAfterWrite(Duration.ofSeconds(30)).maximumSize(100_000).build();
    private static final int MAX_PARTITIONS_TO_PRELOAD = 4096;

    private final ChunkCache.Neighbours neighbours;
    private final Predicate<PartitionId> owned;
    /** Topics whose owned partitions' index shards were read lately (see {@link #loadOwnedShards}). */
    private final Cache<Long, Boolean> indexedTopics = Caffeine.newBuilder()
            .expireAfterWrite(Duration.ofSeconds(30)).maximumSize(10_000).build();
    private final TagSummaries tagSummaries = new TagSummaries();
    /**
     * Chunks decoded lately for range reads (share groups): members take neighbouring ranges of the same chunks,
     * and decoding a chunk once for all of them, not once each, is most of what serving them costs. Bounded by
     * the records' size, and small: members read within a chunk or two of each other, and what the cache holds
     * the collector copies at every young collection (at 64 MiB its pauses reached 35 ms, 20 at 16 MiB, and
     * share groups' acknowledgements waited through them). A chunk is the same bytes for as long as it is
     * referenced, so an entry never goes stale.
     */
    private final java.util.concurrent.atomic.LongAdder rangeChunksDecoded = new java.util.concurrent.atomic.LongAdder();
    private final Cache<ChunkRef, List<OffsetRecord>> decodedChunks = Caffeine.newBuilder()
            .maximumWeight(16L << 20).weigher((ChunkRef c, List<OffsetRecord> records) -> Math.max(1,
                    (int) Math.min(Integer.MAX_VALUE, 64L * records.size() + c.uncompressedLength())))
            .expireAfterAccess(Duration.ofSeconds(30)).build();

    /**
     * @param owned which partitions this node owns among the live fetch nodes (clients read them here): when
     *              a GET reads an object, their chunks in it are taken along
     */
    public FetchHandler(IndexView index, ChunkLocator locator, ChunkCache cache, TopicCache topics,
                        Predicate<PartitionId> owned, FetchSettings settings) {
        this(index, locator, cache, topics, owned, settings, io.strata.fetch.txn.CommittedReads.NONE);
    }

    /** @param committed what read-committed reads may answer (transactions' last stable offsets and aborts) */
    public FetchHandler(IndexView index, ChunkLocator locator, ChunkCache cache, TopicCache topics,
                        Predicate<PartitionId> owned, FetchSettings settings,
                        io.strata.fetch.txn.CommittedReads committed) {
        this(index, locator, cache, topics, owned, settings, committed, Runnable::run);
    }

    /**
     * @param afterWait where a long-polled read goes on once its partition grew or its wait ended: off the index
     *                  watch's thread and the timer's, which wake every waiter of a commit one after another (a
     *                  read and its answer there would hold back the next waiter, and every index event after)
     */
    public FetchHandler(IndexView index, ChunkLocator locator, ChunkCache cache, TopicCache topics,
                        Predicate<PartitionId> owned, FetchSettings settings,
                        io.strata.fetch.txn.CommittedReads committed, Executor afterWait) {
        this.afterWait = afterWait;
        this.committed = committed;
        this.index = index;
        this.locator = locator;
        this.cache = cache;
        this.topics = topics;
        this.settings = settings;
        this.owned = owned;
        this.neighbours = ref -> {
            List<ChunkRef> wanted = new ArrayList<>();
            long logStart = index.partition(ref.partition()).logStartOffset();
            for (ChunkRef c : locator.chunksOfObject(index, ref.objectKey(), logStart)) {
                if (activeReads.getIfPresent(c.partition()) != null || owned.test(c.partition())) {
                    wanted.add(c);
                }
            }
            return wanted;
        };
    }

    /**
     * Decoded records from the request's offset on (long-polling at the end of the partition), those its filter
     * passes.
     */
    public CompletableFuture<FetchResponse> fetch(FetchRequest request) {
        RecordFilter filter;
        try {
            filter = request.hasFilter() ? filter(request.getFilter()) : RecordFilter.ALL;
        } catch (StatusRuntimeException bad) {
            return CompletableFuture.failedFuture(bad);
        }
        return read(request).thenApply(read -> decoded(read, filter));
    }

    /** The same read answered as stored chunks: no decompression here, the client decodes. */
    public CompletableFuture<FetchChunksResponse> fetchChunks(FetchRequest request) {
        if (request.hasFilter()) {
            try {
                if (!filter(request.getFilter()).all()) {
                    return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT.withDescription("FetchChunks answers "
                            + "whole stored chunks and cannot filter them: ask Fetch or Subscribe (decoded records) for "
                            + "a filter").asRuntimeException());
                }
            } catch (StatusRuntimeException bad) {
                return CompletableFuture.failedFuture(bad);
            }
        }
        return read(request).thenApply(FetchHandler::raw);
    }

    /** The request's filter, or INVALID_ARGUMENT saying where it does not parse. */
    public static RecordFilter filter(io.strata.api.v1.RecordFilter filter) {
        try {
            return RecordFilter.of(filter.getTagsList(), filter.getExpression());
        } catch (IllegalArgumentException e) {
            throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
        }
    }

    /**
     * Starts a Subscribe stream on {@code out}; its steps run on {@code executor}, and a failure ends the
     * stream with the status {@code toStatus} maps it to.
     */
    public void subscribe(SubscribeRequest request, ServerCallStreamObserver<SubscribeResponse> out, Executor executor,
                          Function<Throwable, ? extends Throwable> toStatus) {
        subscribe(request, out, executor, toStatus, () -> null);
    }

    /**
     * A subscription that asks {@code permission} before each step: a non-null answer (the caller lost the right
     * to read, say) ends the stream with it.
     */
    public void subscribe(SubscribeRequest request, ServerCallStreamObserver<SubscribeResponse> out, Executor executor,
                          Function<Throwable, ? extends Throwable> toStatus,
                          java.util.function.Supplier<? extends RuntimeException> permission) {
        new Subscription(this, index, request, out, executor, toStatus, permission).start();
    }

    void opened(Subscription subscription) {
        open.add(subscription);
    }

    void closed(Subscription subscription) {
        open.remove(subscription);
    }

    /**
     * Ends every open Subscribe stream with UNAVAILABLE (the node is stopping): consumers reconnect to another
     * fetch node and go on from their position, instead of meeting whatever a closed cache or index answers.
     * Answers how many streams it ended.
     */
    public int endSubscriptions(String why) {
        int ended = 0;
        for (Subscription s : List.copyOf(open)) {
            if (s.end(Status.UNAVAILABLE.withDescription(why).asRuntimeException())) {
                ended++;
            }
        }
        return ended;
    }

    /**
     * Checks what a request names before anything is looked up or waited for, so bad input is answered at
     * once: a topic name that cannot exist, a negative partition.
     */
    static StatusRuntimeException invalid(String topic, int partition) {
        if (topic.isEmpty()) {
            return Status.INVALID_ARGUMENT.withDescription("no topic named").asRuntimeException();
        }
        if (topic.length() > TopicConfig.MAX_NAME_LENGTH || !TopicConfig.validName(topic)) {
            return Status.INVALID_ARGUMENT.withDescription("invalid topic name '"
                    + (topic.length() > 60 ? topic.substring(0, 60) + "..." : topic) + "' (" + topic.length()
                    + " characters): 1 to 249 of A-Z a-z 0-9 . _ -").asRuntimeException();
        }
        if (partition < 0) {
            return Status.INVALID_ARGUMENT.withDescription("partition " + partition + " is negative")
                    .asRuntimeException();
        }
        return null;
    }

    /** Validates the request and reads its chunks; a read that found nothing new holds no chunks. */
    CompletableFuture<ChunkRead> read(FetchRequest request) {
        StatusRuntimeException bad = invalid(request.getTopic(), request.getPartition());
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        if (request.getOffset() < 0 || request.getMaxBytes() < 0 || request.getMaxWaitMs() < 0) {
            return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT
                    .withDescription("offset, max_bytes and max_wait_ms must not be negative").asRuntimeException());
        }
        int maxBytes = maxBytes(request.getMaxBytes());
        Duration maxWait = Duration.ofMillis(Math.min(request.getMaxWaitMs(), settings.maxWait().toMillis()));
        long offset = request.getOffset();
        boolean readCommitted;
        try {
            readCommitted = readCommitted(request.getIsolationLevel());
        } catch (StatusRuntimeException unknown) {
            return CompletableFuture.failedFuture(unknown);
        }
        return resolve(request.getTopic(), request.getPartition())
                .thenCompose(pid -> checkRangeCatchingUp(request.getTopic(), pid, offset).thenApply(v -> pid))
                .thenCompose(pid -> {
            java.util.function.ToLongFunction<PartitionIndex> bound = bound(pid, readCommitted, offset);
            if (bound.applyAsLong(index.partition(pid)) > offset || maxWait.isZero()) {
                return readAvailable(pid, offset, maxBytes, readCommitted);
            }
            // At the end (or, read committed, at the last stable offset): wait for the commit that extends the
            // partition or the transaction's end that moves it on (or the deadline), then look again.
            return awaitBeyond(pid, offset, System.nanoTime() + maxWait.toNanos(), bound)
                    .thenComposeAsync(v -> readAvailable(pid, offset, maxBytes, readCommitted), afterWait);
        }).thenApply(this::served);
    }

    /** A read about to be answered to a reader (Fetch, FetchChunks, Subscribe, the Kafka door): counted as served. */
    ChunkRead served(ChunkRead read) {
        readStats.read(read, System.currentTimeMillis());
        return read;
    }

    /**
     * Completes once the reader's bound of the partition passes {@code offset}, or at the deadline. A wake that did
     * not move it (a transaction's abort being written down, a commit behind a last stable offset) waits again.
     */
    private CompletableFuture<Void> awaitBeyond(PartitionId pid, long offset, long deadlineNanos,
                                                java.util.function.ToLongFunction<PartitionIndex> bound) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        return index.awaitBeyond(pid, offset, Duration.ofNanos(left), bound).thenCompose(grown -> index.load(pid)
                .thenCompose(loaded -> !grown || bound.applyAsLong(index.partition(pid)) > offset
                        ? CompletableFuture.<Void>completedFuture(null) : awaitBeyond(pid, offset, deadlineNanos, bound)));
    }

    /** Whether a request asks for committed records only; an isolation level this node does not know is refused. */
    static boolean readCommitted(io.strata.api.v1.IsolationLevel level) {
        return switch (level) {
            case ISOLATION_LEVEL_READ_UNCOMMITTED -> false;
            case ISOLATION_LEVEL_READ_COMMITTED -> true;
            default -> throw Status.INVALID_ARGUMENT.withDescription("unknown isolation level " + level)
                    .asRuntimeException();
        };
    }

    /** Where a reader of the partition at {@code offset} stops: its end, or read committed, its last stable offset. */
    java.util.function.ToLongFunction<PartitionIndex> bound(PartitionId pid, boolean readCommitted, long offset) {
        return readCommitted ? partition -> committed.lastStable(pid, partition, offset) : PartitionIndex::endOffset;
    }

    /** The answer size a request asking for {@code requested} bytes gets (0: the default), within the node's bound. */
    public int maxBytes(int requested) {
        return requested == 0 ? settings.defaultMaxBytes() : Math.min(requested, settings.maxMaxBytes());
    }

    /**
     * How long an offset past this node's end of a partition may wait for the node to see the commits that reach
     * it before it is OUT_OF_RANGE: a consumer that moves here from another node (its node stopped) may have read
     * records this node's index learns of a moment later.
     */
    static final Duration CATCH_UP = Duration.ofSeconds(3);

    /**
     * Completes once {@code offset} lies in [log start, end]; fails OUT_OF_RANGE (with the valid range) when it is
     * below the start, or still past the end after waiting up to {@link #CATCH_UP} for this node to see commits
     * that reach it.
     */
    CompletableFuture<Void> checkRangeCatchingUp(String topic, PartitionId pid, long offset) {
        PartitionIndex partition = index.partition(pid);
        if (offset <= partition.endOffset() || offset < partition.logStartOffset()) {
            checkRange(topic, pid, offset);
            return CompletableFuture.completedFuture(null);
        }
        // Through the waiting loop, not one wait: a shard this node does not hold answers a wait at once (the
        // caller loads it and looks again), and the look after that load must still wait for the commits.
        return awaitBeyond(pid, offset - 1, System.nanoTime() + CATCH_UP.toNanos(), PartitionIndex::endOffset)
                .thenCompose(waited -> index.load(pid))
                .thenCompose(loaded -> {
                    PartitionIndex now = index.partition(pid);
                    if (offset <= now.endOffset()) {
                        checkRange(topic, pid, offset);
                        return CompletableFuture.completedFuture(null);
                    }
                    // Still ahead of this node's view: the store says whether the offset is real. A node that
                    // restarted under load may take longer than CATCH_UP to see the commits that reach it, and the
                    // reader, who read there elsewhere, must not take that for a log that ends before it.
                    return index.committedEnd(pid).thenAccept(committed -> {
                        if (offset <= committed) {
                            throw Status.UNAVAILABLE.withDescription("this node has not yet seen the commits up to "
                                    + "offset " + offset + " of " + (topic.isEmpty() ? "partition " : topic + "/")
                                    + pid.partition() + " (it knows up to " + index.partition(pid).endOffset()
                                    + "); another node, or this one shortly, answers").asRuntimeException();
                        }
                        checkRange(topic, pid, offset);
                    });
                });
    }

    /** Throws OUT_OF_RANGE (with the valid range) unless {@code offset} lies in [log start, end]. */
    void checkRange(String topic, PartitionId pid, long offset) {
        PartitionIndex partition = index.partition(pid);
        long start = partition.logStartOffset();
        long end = partition.endOffset();
        if (offset < start || offset > end) {
            throw outOfRange(topic, pid.partition(), offset, start, end);
        }
    }

    /**
     * The verified stored chunks from the one holding {@code offset} on, up to about {@code maxBytes} of
     * records (at least one chunk); no chunks when the partition ends at {@code offset}.
     */
    CompletableFuture<ChunkRead> readAvailable(PartitionId pid, long offset, int maxBytes) {
        return readAvailable(pid, offset, maxBytes, false);
    }

    /**
     * As {@link #readAvailable(PartitionId, long, int)}; read committed, only chunks below the last stable offset,
     * with the aborted transactions' records among them.
     */
    CompletableFuture<ChunkRead> readAvailable(PartitionId pid, long offset, int maxBytes, boolean readCommitted) {
        return readAvailable(pid, offset, maxBytes, readCommitted, 0);
    }

    /** How many times one read reads its partition's shard again after finding it dropped under it. */
    static final int MAX_REREADS = 3;

    private CompletableFuture<ChunkRead> readAvailable(PartitionId pid, long offset, int maxBytes,
                                                       boolean readCommitted, int rereads) {
        PartitionIndex partition = index.partition(pid);
        long stable = committed.lastStable(pid, partition, offset);
        // Read uncommitted, whole chunks are answered however far they reach (a commit may land meanwhile);
        // read committed, nothing at or past the last stable offset as it stands now.
        long upTo = readCommitted ? stable : Long.MAX_VALUE;
        if ((readCommitted ? stable : partition.endOffset()) <= offset) {
            index.readerAtEnd(pid);
            return CompletableFuture.completedFuture(new ChunkRead(offset, maxBytes, List.of(), List.of(),
                    partition.endOffset(), partition.logStartOffset(), stable, upTo, List.of()));
        }
        return locator.chunksFrom(partition, offset, maxBytes).thenCompose(found -> {
            if (partition.detached()) {
                // The shard was dropped while this read looked at it: its refs (and the transactional batches that
                // say which records are aborted) were leaving, so what was found may stop short or be empty.
                // Read the shard again and look again, rather than answer out of range.
                return reread(pid, offset, maxBytes, readCommitted, rereads);
            }
            if (found.isEmpty()) {
                // Retention moved the start past the offset between the range check and now.
                throw outOfRange("", pid.partition(), offset, partition.logStartOffset(), partition.endOffset());
            }
            List<ChunkRef> chunks = readCommitted ? found.stream().filter(c -> c.baseOffset() < upTo).toList() : found;
            List<io.strata.fetch.txn.CommittedReads.Range> aborted = readCommitted ? committed.aborted(pid, partition,
                    offset, Math.min(upTo, chunks.get(chunks.size() - 1).endOffset())) : List.of();
            if (readCommitted && partition.detached()) {
                // Dropped since the look above: the aborted ranges just read may be short of some. Look again.
                return reread(pid, offset, maxBytes, true, rereads);
            }
            activeReads.put(pid, Boolean.TRUE);
            if (nearEnd(chunks, partition.endOffset())) {
                index.readerAtEnd(pid); // told before the read: the next block's chunks may be on their way already
            }
            List<CompletableFuture<ByteBuffer>> reads = new ArrayList<>(chunks.size());
            for (ChunkRef c : chunks) {
                // A chunk holding only aborted records is not read: the answer passes over it.
                reads.add(wholly(aborted, c, offset) ? CompletableFuture.completedFuture(null)
                        : cache.get(c, neighbours));
            }
            readAhead(partition, chunks.get(chunks.size() - 1));
            return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> new ChunkRead(
                    offset, maxBytes, chunks, reads.stream().map(CompletableFuture::join).toList(),
                    partition.endOffset(), partition.logStartOffset(), stable, upTo, aborted));
        });
    }

    /**
     * How close to a partition's end a read that stops short of it still counts as a reader at the tail: one
     * whose answers are smaller than the partition grows by stays a little behind it for good, and is handed
     * the chunks it is about to read as much as one that reaches the end.
     */
    static final long NEAR_END_BYTES = 8L << 20;

    /** Whether a read of {@code chunks} ends at {@code end} or, as far as their sizes tell, near it. */
    static boolean nearEnd(List<ChunkRef> chunks, long end) {
        long readTo = chunks.get(chunks.size() - 1).endOffset();
        if (readTo >= end) {
            return true;
        }
        long bytes = 0;
        long records = 0;
        for (ChunkRef c : chunks) {
            bytes += c.byteLength();
            records += c.recordCount();
        }
        // Offsets left times the bytes a record took in what was read: the bytes left, or more where key compaction
        // left fewer records than offsets (a reader far behind in a compacted log is not taken for one at the tail).
        return records > 0 && (double) (end - readTo) * bytes / records <= NEAR_END_BYTES;
    }

    /**
     * The read again once its partition's shard is read again; UNAVAILABLE (the reader asks again) when the shard
     * was dropped under it {@link #MAX_REREADS} times already (the index held far beyond its bound).
     */
    private CompletableFuture<ChunkRead> reread(PartitionId pid, long offset, int maxBytes, boolean readCommitted,
                                                int rereads) {
        if (rereads >= MAX_REREADS) {
            return CompletableFuture.failedFuture(Status.UNAVAILABLE.withDescription("the index of partition "
                    + pid.partition() + " was dropped under the read " + MAX_REREADS + " times (more partitions read "
                    + "than strata.fetch.index-max-chunks holds): ask again").asRuntimeException());
        }
        return index.load(pid).thenComposeAsync(v -> readAvailable(pid, offset, maxBytes, readCommitted, rereads + 1),
                afterWait);
    }

    /** Whether every record of the chunk from {@code offset} on lies in one of the aborted ranges. */
    private static boolean wholly(List<io.strata.fetch.txn.CommittedReads.Range> aborted, ChunkRef chunk,
                                  long offset) {
        long from = Math.max(offset, chunk.baseOffset());
        for (io.strata.fetch.txn.CommittedReads.Range r : aborted) {
            if (r.first() <= from && r.last() >= chunk.endOffset() - 1) {
                return true;
            }
        }
        return false;
    }

    /** A reader behind the end will ask for the next chunks soon: start loading them now. */
    private void readAhead(PartitionIndex partition, ChunkRef last) {
        if (settings.readAheadBytes() == 0 || last.endOffset() >= partition.endOffset()) {
            return;
        }
        locator.chunksFrom(partition, last.endOffset(), settings.readAheadBytes())
                .thenAccept(next -> next.forEach(c -> cache.prefetch(c, neighbours)));
    }

    /**
     * What one read found: chunks (the first may begin before {@code offset}) and their verified bytes (null for a
     * chunk of aborted records only, which a read-committed read passes over unread); the partition's bounds; where
     * the reader stops ({@code upTo}: read committed, the last stable offset; else {@code Long.MAX_VALUE}, whole chunks) and the aborted
     * transactions' records it leaves out.
     */
    record ChunkRead(long offset, int maxBytes, List<ChunkRef> chunks, List<ByteBuffer> bytes, long endOffset,
                     long logStartOffset, long lastStableOffset, long upTo,
                     List<io.strata.fetch.txn.CommittedReads.Range> aborted) {
    }

    /**
     * The read's records from its offset on that {@code filter} passes; the answer's next offset is past the
     * records it passed over, so a reader's position moves through what it does not want.
     */
    FetchResponse decoded(ChunkRead read, RecordFilter filter) {
        FetchResponse.Builder response = FetchResponse.newBuilder();
        long next = read.offset();
        long bytes = 0;
        boolean tagged = !filter.requiredTags().isEmpty();
        int[] abortedAt = {0};
        outer:
        for (int c = 0; c < read.chunks().size(); c++) {
            ChunkRef chunk = read.chunks().get(c);
            if (read.bytes().get(c) == null || tagged && tagSummaries.passOver(chunk, filter)) {
                // Aborted records only, or none of its records carries a wanted tag.
                next = Math.max(next, Math.min(chunk.endOffset(), read.upTo()));
                continue;
            }
            TagSummaries.Builder summary = tagged ? new TagSummaries.Builder() : null;
            for (OffsetRecord r : decode(read.bytes().get(c), chunk)) {
                if (r.offset() >= read.upTo()) {
                    summary = null; // not every record was looked at
                    break;
                }
                HeaderTexts headers = filter.all() ? null : new HeaderTexts(r.record().headers());
                if (summary != null) {
                    summary.add(headers.value(RecordFilter.TAG_HEADER));
                }
                if (r.offset() < next) {
                    continue;
                }
                if (!read.aborted().isEmpty() && io.strata.fetch.txn.CommittedReads.in(read.aborted(), r.offset(),
                        abortedAt)) {
                    next = r.offset() + 1; // a record of an aborted transaction
                    continue;
                }
                if (headers != null && !filter.matches(headers)) {
                    next = r.offset() + 1;
                    continue;
                }
                int size = r.record().encodedSizeUpperBound();
                if (response.getRecordsCount() > 0 && bytes + size > read.maxBytes()) {
                    break outer; // the chunk's summary is not whole: not kept
                }
                response.addRecords(toProto(r.offset(), r.record()));
                bytes += size;
                next = r.offset() + 1;
            }
            if (summary != null) {
                tagSummaries.learned(chunk, summary.build());
            }
            // Offsets a key-compacted chunk no longer holds are passed over, not asked for again.
            next = Math.max(next, Math.min(chunk.endOffset(), read.upTo()));
        }
        return response.setNextOffset(next).setEndOffset(read.endOffset())
                .setLogStartOffset(read.logStartOffset()).setLastStableOffset(read.lastStableOffset()).build();
    }

    /** What this node's reads served. */
    public ReadStats readStats() {
        return readStats;
    }

    /** Chunks that filtered reads passed over without decompressing them (their tag summary ruled them out). */
    public long chunksPassedOver() {
        return tagSummaries.skipped();
    }

    /** Whether {@code filter} passes the record. */
    public static boolean passes(RecordFilter filter, LogRecord record) {
        return filter.all() || filter.matches(new HeaderTexts(record.headers()));
    }

    /**
     * A record's headers as a filter reads them: the text of the last header of a name, each decoded at most
     * once however often the expression names it.
     */
    private static final class HeaderTexts implements RecordFilter.Headers {
        private final List<RecordHeader> headers;
        private final String[] decoded;

        HeaderTexts(List<RecordHeader> headers) {
            this.headers = headers;
            this.decoded = new String[headers.size()];
        }

        @Override
        public String value(String key) {
            for (int i = headers.size() - 1; i >= 0; i--) {
                if (headers.get(i).key().equals(key)) {
                    if (decoded[i] == null) {
                        decoded[i] = new String(headers.get(i).value(), java.nio.charset.StandardCharsets.UTF_8);
                    }
                    return decoded[i];
                }
            }
            return null;
        }
    }

    static FetchChunksResponse raw(ChunkRead read) {
        FetchChunksResponse.Builder response = FetchChunksResponse.newBuilder();
        long next = read.offset();
        for (int c = 0; c < read.chunks().size(); c++) {
            ChunkRef chunk = read.chunks().get(c);
            if (read.bytes().get(c) == null) {
                next = Math.max(next, Math.min(chunk.endOffset(), read.upTo())); // aborted records only: not sent
                continue;
            }
            RawChunk.Builder raw = RawChunk.newBuilder().setBaseOffset(chunk.baseOffset())
                    .setRecordCount(chunk.recordCount()).setStoredRecordCount(chunk.storedRecordCount())
                    .setOffsetCount(chunk.offsetCount() == chunk.recordCount() ? 0 : chunk.offsetCount())
                    .setUncompressedLength(chunk.uncompressedLength()).setCrc32C(chunk.crc32c())
                    .setData(UnsafeByteOperations.unsafeWrap(read.bytes().get(c).duplicate()));
            for (SkippedRange s : chunk.skipped()) {
                raw.addSkipped(SkippedRecords.newBuilder().setFirstPosition(s.firstPosition()).setCount(s.count()));
            }
            for (io.strata.fetch.txn.CommittedReads.Range r : read.aborted()) {
                if (r.last() >= chunk.baseOffset() && r.first() < chunk.endOffset()) {
                    raw.addAborted(io.strata.api.v1.OffsetRange.newBuilder().setFirst(r.first()).setLast(r.last()));
                }
            }
            response.addChunks(raw);
            next = Math.min(chunk.endOffset(), read.upTo());
        }
        return response.setNextOffset(next).setEndOffset(read.endOffset())
                .setLogStartOffset(read.logStartOffset()).setLastStableOffset(read.lastStableOffset()).build();
    }

    public CompletableFuture<ListOffsetsResponse> listOffsets(ListOffsetsRequest request) {
        StatusRuntimeException bad = invalid(request.getTopic(), request.getPartition());
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        return resolve(request.getTopic(), request.getPartition()).thenCompose(pid -> {
            PartitionIndex partition = index.partition(pid);
            if (request.hasTimestampMs()) {
                return offsetForTimestamp(partition, request.getTimestampMs(), partition.logStartOffset());
            }
            boolean readCommitted = readCommitted(request.getIsolationLevel());
            long offset = switch (request.getPosition()) {
                case OFFSET_SPEC_EARLIEST -> partition.logStartOffset();
                case OFFSET_SPEC_LATEST -> readCommitted ? committed.lastStable(pid, partition) : partition.endOffset();
                default -> throw Status.INVALID_ARGUMENT.withDescription("unknown offset spec "
                        + request.getPositionValue()).asRuntimeException();
            };
            return CompletableFuture.completedFuture(
                    ListOffsetsResponse.newBuilder().setOffset(offset).setTimestampMs(-1).build());
        });
    }

    /**
     * The first chunk whose newest record is at or after the time holds the answer, unless those records are before
     * the log start (DeleteRecords moves it inside chunks): then the search goes on past that chunk.
     */
    private CompletableFuture<ListOffsetsResponse> offsetForTimestamp(PartitionIndex partition, long timestampMs,
                                                                      long from) {
        return locator.firstChunkAtOrAfter(partition, timestampMs, from).thenCompose(chunk -> {
            if (chunk == null) {
                return CompletableFuture.completedFuture(ListOffsetsResponse.newBuilder()
                        .setOffset(partition.endOffset()).setTimestampMs(-1).build());
            }
            return cache.get(chunk).thenCompose(bytes -> {
                for (OffsetRecord r : decode(bytes, chunk)) {
                    if (r.offset() >= from && r.record().timestampMs() >= timestampMs) {
                        return CompletableFuture.completedFuture(ListOffsetsResponse.newBuilder().setOffset(r.offset())
                                .setTimestampMs(r.record().timestampMs()).build());
                    }
                }
                return offsetForTimestamp(partition, timestampMs, Math.max(from, chunk.endOffset()));
            });
        });
    }

    /** How many partitions the topic has: NOT_FOUND for an unknown topic. */
    public CompletableFuture<Integer> partitionCount(String topicName) {
        StatusRuntimeException bad = invalid(topicName, 0);
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        return topics.get(topicName, 0).thenApply(found -> found.orElseThrow(() -> Status.NOT_FOUND
                .withDescription("unknown topic " + io.strata.metadata.InputText.quoted(topicName)).asRuntimeException())
                .partitions());
    }

    /** The partition of a topic by name: NOT_FOUND for an unknown topic, INVALID_ARGUMENT for a bad partition. */
    public CompletableFuture<PartitionId> resolve(String topicName, int partition) {
        StatusRuntimeException bad = invalid(topicName, partition);
        if (bad != null) {
            return CompletableFuture.failedFuture(bad);
        }
        return topics.get(topicName, partition).thenApply(found -> {
            Topic topic = found.orElseThrow(() -> Status.NOT_FOUND
                    .withDescription("unknown topic " + io.strata.metadata.InputText.quoted(topicName)).asRuntimeException());
            if (partition < 0 || partition >= topic.partitions()) {
                throw Status.INVALID_ARGUMENT.withDescription("partition " + partition
                        + " is out of range for topic '" + topicName + "' (0.." + (topic.partitions() - 1) + ")")
                        .asRuntimeException();
            }
            return topic;
        }).thenCompose(topic -> {
            PartitionId pid = topic.partition(partition);
            return index.load(pid).thenCompose(loaded -> loadOwnedShards(topic)).thenApply(loaded -> pid);
        });
    }

    /**
     * The first read of a topic on this node also reads the index shards of the topic's other partitions
     * this node owns: their consumers come next, and a GET that reads one of the topic's objects can take
     * their chunks along only if the index knows them. Once per topic and half minute; skipped for topics
     * too wide to be worth it (their shards are read as their partitions are asked for).
     */
    private CompletableFuture<Void> loadOwnedShards(Topic topic) {
        if (topic.partitions() > MAX_PARTITIONS_TO_PRELOAD || indexedTopics.getIfPresent(topic.topicId()) != null) {
            return CompletableFuture.completedFuture(null);
        }
        indexedTopics.put(topic.topicId(), Boolean.TRUE);
        Map<Integer, PartitionId> oneByShard = new HashMap<>();
        for (int p = 0; p < topic.partitions(); p++) {
            PartitionId id = topic.partition(p);
            if (owned.test(id)) {
                oneByShard.putIfAbsent(index.shardOf(id), id);
            }
        }
        return CompletableFuture.allOf(oneByShard.values().stream().map(index::load)
                .toArray(CompletableFuture[]::new));
    }

    /** What a range read asks of the cache at a time: a few chunks, so that what it does not need stays unread. */
    private static final int RANGE_READ_BYTES = 2 << 20;

    /** A decoded record and its offset. */
    public record OffsetRecord(long offset, LogRecord record) {
    }

    /**
     * What a range read found: its records in offset order, and the offset up to which the range was read (the
     * chunks covering [first, readTo) were all read; an offset there without a record has none, key compaction
     * removed it). {@code readTo} stops short of the range's end where this node's view of the log ends.
     */
    public record RangeRead(List<OffsetRecord> records, long readTo) {
    }

    /** The partition's records with offsets in {@code [first, last]}, as far as this node can read them. */
    public CompletableFuture<RangeRead> recordsBetween(PartitionId pid, long first, long last) {
        return recordsBetween(pid, first, last, Long.MAX_VALUE);
    }

    /**
     * As {@link #recordsBetween(PartitionId, long, long)}, stopping after the chunk whose records took the values,
     * keys and headers read past {@code maxBytes} (so at most that and one chunk's worth): {@code readTo} then ends
     * there.
     */
    public CompletableFuture<RangeRead> recordsBetween(PartitionId pid, long first, long last, long maxBytes) {
        List<OffsetRecord> out = new ArrayList<>();
        return recordsFrom(pid, first, last, out, new long[] {maxBytes})
                .thenApply(readTo -> new RangeRead(out, readTo));
    }

    private CompletableFuture<Long> recordsFrom(PartitionId pid, long from, long last, List<OffsetRecord> out,
                                                long[] budget) {
        if (from > last) {
            return CompletableFuture.completedFuture(from);
        }
        if (index.partition(pid).endOffset() <= from) {
            index.readerAtEnd(pid); // a scan caught up (delayed records, half messages): it reads new blocks next
            return CompletableFuture.completedFuture(from); // this node's view of the log ends here
        }
        return readAvailable(pid, from, Math.min(settings.maxMaxBytes(), RANGE_READ_BYTES)).thenCompose(read -> {
            long next = from;
            long known = Math.max(from, index.partition(pid).logStartOffset()); // below the log start: removed
            if (!read.chunks().isEmpty() && read.chunks().get(0).baseOffset() > known) {
                // A hole in this node's view of the log (a shard read again, say), not records retention removed:
                // read no further than what is known to be there.
                return CompletableFuture.completedFuture(known);
            }
            for (int c = 0; c < read.chunks().size(); c++) {
                ChunkRef chunk = read.chunks().get(c);
                if (chunk.baseOffset() > last) {
                    // Read along, not asked for: decoding it would cost more than the range (a member's few
                    // hundred records), and push chunks other members are about to ask for out of the cache.
                    return CompletableFuture.completedFuture(last + 1);
                }
                ByteBuffer bytes = read.bytes().get(c);
                // A read with a byte budget (a delayed-delivery scan) reads each record once: it is kept out of
                // the cache share members read from, which it would empty.
                List<OffsetRecord> records = budget[0] == Long.MAX_VALUE ? decodedChunks.get(chunk,
                        k -> decodeForRange(bytes, k)) : decodeForRange(bytes, chunk);
                for (OffsetRecord r : records) {
                    if (r.offset() >= from && r.offset() <= last) {
                        out.add(r);
                        if (budget[0] != Long.MAX_VALUE) { // counted only for a caller that set a budget
                            budget[0] -= weight(r.record());
                        }
                    }
                }
                next = Math.max(next, chunk.endOffset());
                if (budget[0] <= 0) {
                    return CompletableFuture.completedFuture(next); // what was read so far is all it takes
                }
            }
            if (read.chunks().isEmpty() || next <= from) {
                return CompletableFuture.completedFuture(from);
            }
            return recordsFrom(pid, next, last, out, budget);
        });
    }

    private List<OffsetRecord> decodeForRange(ByteBuffer bytes, ChunkRef chunk) {
        rangeChunksDecoded.increment();
        return decode(bytes, chunk);
    }

    /** Chunks decoded for range reads (share groups, dead letters, delayed records), since the node started. */
    public long rangeChunksDecoded() {
        return rangeChunksDecoded.sum();
    }

    /** What a record's key, value and headers take. */
    private static long weight(io.strata.format.LogRecord record) {
        long bytes = record.value().length + (record.key() == null ? 0 : record.key().length);
        for (io.strata.format.RecordHeader h : record.headers()) {
            bytes += h.key().length() + h.value().length;
        }
        return bytes;
    }

    /**
     * The chunk's records that have offsets, with them: consecutive from the base for WAL chunks (skipped
     * positions dropped), their own in a key-compacted segment's chunk. Checked like the client checks.
     */
    static List<OffsetRecord> decode(ByteBuffer bytes, ChunkRef chunk) {
        int[] index = io.strata.format.SkippedRecords.offsetIndexes(chunk.storedRecordCount(),
                chunk.skipped().stream().mapToInt(SkippedRange::firstPosition).toArray(),
                chunk.skipped().stream().mapToInt(SkippedRange::count).toArray());
        List<OffsetRecord> out = new ArrayList<>(Math.min(chunk.recordCount(), 1 << 16));
        ChunkCodec.decode(bytes, chunk.crc32c(), chunk.uncompressedLength(), chunk.storedRecordCount(),
                chunk.baseOffset(), (position, delta, timestampMs, key, value, headers) -> {
                    long i = index == null ? delta : index[position];
                    if (i >= 0) {
                        out.add(new OffsetRecord(chunk.baseOffset() + i, new LogRecord(key, value, headers,
                                timestampMs)));
                    }
                });
        if (out.size() != chunk.recordCount() || (!out.isEmpty() && out.get(out.size() - 1).offset()
                >= chunk.endOffset())) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT, "chunk at offset "
                    + chunk.baseOffset() + " holds " + out.size() + " records with offsets, the index says "
                    + chunk.recordCount() + " before " + chunk.endOffset());
        }
        return out;
    }

    /**
     * Wraps the record's arrays rather than copying them: a decoded record's arrays are its own, read by many
     * answers (the decoded-chunk cache) and written by none, and the copy cost a fifth of serving a share group.
     */
    private static ConsumedRecord toProto(long offset, LogRecord record) {
        ConsumedRecord.Builder b = ConsumedRecord.newBuilder().setOffset(offset).setTimestampMs(record.timestampMs())
                .setValue(UnsafeByteOperations.unsafeWrap(record.value()));
        if (record.key() != null) {
            b.setKey(UnsafeByteOperations.unsafeWrap(record.key()));
        }
        for (RecordHeader h : record.headers()) {
            b.addHeaders(Header.newBuilder().setKey(h.key())
                    .setValue(UnsafeByteOperations.unsafeWrap(h.value())));
        }
        return b.build();
    }

    static StatusRuntimeException outOfRange(String topic, int partition, long offset, long start, long end) {
        return Status.OUT_OF_RANGE.withDescription("offset " + offset + " is outside the range [" + start + ", "
                + end + "] of " + (topic.isEmpty() ? "partition " : topic + "/") + partition).asRuntimeException();
    }
}
