package io.strata.server.fetch;

import io.micrometer.core.instrument.MeterRegistry;
import io.strata.fetch.FetchSettings;
import io.strata.fetch.cache.ChunkCache;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.fetch.index.ChunkLocator;
import io.strata.fetch.index.IndexView;
import io.strata.fetch.index.SegmentFooters;
import io.strata.fetch.routing.FetchNodes;
import io.strata.fetch.share.ShareHandler;
import io.strata.fetch.tail.TailReaders;
import io.strata.ingest.grpc.ProduceHandler;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.TopicCache;
import io.strata.server.Closeables;
import io.strata.server.config.HeapShare;
import io.strata.server.config.StrataConfig;
import io.strata.server.delay.DelayRole;
import io.strata.server.metrics.NodeMetrics;
import io.strata.server.metrics.RoleMetrics;
import io.strata.server.net.InternalPort;
import io.strata.server.security.AccessControl;
import io.strata.server.share.ShareRole;
import io.strata.server.txn.CheckBackStreams;
import io.strata.server.txn.HalfDelivery;
import io.strata.storage.object.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * The fetch role on a node: the index view, the chunk cache, the read handler, and what runs beside them on the
 * partitions this node owns (share groups, delayed records, half messages), with their metrics. Built at the
 * node's start; everything it opens goes to the node's {@link Closeables}, so the node's stop closes it, the
 * subscription streams before the cache and the index they read. Owns the threads {@code strata-fetch-timer} and
 * {@code strata-fetch-stream-*}.
 *
 * @param handler  reads: Fetch, FetchChunks, Subscribe, offsets
 * @param cache    the chunk cache, which ingest nodes' hand-offs fill
 * @param streams  where subscription streams take their steps
 * @param shares   share groups, served with the fetch role
 * @param tail     the partitions read at the tail here, which ingest nodes watch to hand over only their chunks
 */
public record FetchRole(FetchHandler handler, ChunkCache cache, Executor streams, ShareHandler shares,
                        TailReaders tail) {
    private static final Logger LOG = Logger.getLogger(FetchRole.class);
    /** How long a partition counts as read at the tail after its reader's last read there. */
    private static final Duration TAIL_READER_TTL = Duration.ofSeconds(30);
    /** Partitions counted as read at the tail, at most; beyond, the node asks for every chunk. */
    private static final int MAX_TAIL_PARTITIONS = 100_000;

    /**
     * Builds the role, waiting (each for at most three times the metadata timeout) until the index and the
     * transactions' view have read the metadata store. {@code ingest} is this node's ingest role or null;
     * {@code address} is the node's advertised gRPC address, by which it knows the partitions it owns.
     */
    public static FetchRole start(StrataConfig config, MetadataStore metadata, ObjectStore objects, TopicCache topics,
                                  FetchNodes fetchNodes, String address, ProduceHandler ingest, AccessControl access,
                                  InternalPort internalPort, CheckBackStreams checkBacks, MeterRegistry meters,
                                  Closeables closeables) throws Exception {
        StrataConfig.Fetch c = config.fetch();
        long startTimeoutMs = config.metadata().timeout().toMillis() * 3;
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-fetch-timer");
            t.setDaemon(true);
            return t;
        });
        closeables.register(() -> timer.shutdownNow());
        AtomicInteger streamThreads = new AtomicInteger();
        ExecutorService streams = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()),
                r -> {
                    Thread t = new Thread(r, "strata-fetch-stream-" + streamThreads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        closeables.register(() -> streams.shutdownNow());
        IndexView index = new IndexView(metadata, timer, c.indexMaxChunks());
        meters.gauge("strata.fetch.index.chunks", index, IndexView::heldChunks);
        meters.gauge("strata.fetch.index.shards", index, IndexView::heldShards);
        meters.gauge("strata.fetch.index.awaited.partitions", index, IndexView::awaitedPartitions);
        RoleMetrics.counter(meters, "strata.fetch.index.shard.reads", index, IndexView::shardReads);
        closeables.register(index);
        TailReaders tail = closeables.register(new TailReaders(TAIL_READER_TTL, MAX_TAIL_PARTITIONS, System::nanoTime,
                timer));
        index.onReaderAtEnd(tail::atEnd);
        timer.scheduleWithFixedDelay(() -> tail.expire(index::awaited), 1, 1, TimeUnit.SECONDS);
        meters.gauge("strata.fetch.tail.partitions", tail, TailReaders::partitions);
        index.start().get(startTimeoutMs, TimeUnit.MILLISECONDS);
        ChunkCache cache = closeables.register(cache(config, objects));
        // A segment's footer lists about one chunk per 512 KiB: a quarter of the index bound covers the
        // footers of far more data than the memory and disk tiers hold.
        SegmentFooters footers = new SegmentFooters(objects, Math.max(10_000, c.indexMaxChunks() / 4));
        // Read-committed reads: the transactions' last stable offsets and aborts, one watch; a transaction's
        // end wakes the readers it held back.
        io.strata.fetch.txn.TransactionsView transactions = closeables.register(
                new io.strata.fetch.txn.TransactionsView(metadata.transactions(), timer));
        transactions.onMoved(index::wakeReaders);
        transactions.start().get(startTimeoutMs, TimeUnit.MILLISECONDS);
        Predicate<PartitionId> owned = p -> address.equals(fetchNodes.owner(p));
        FetchHandler fetch = new FetchHandler(index, new ChunkLocator(footers), cache, topics, owned,
                new FetchSettings(c.defaultMaxBytes(), c.maxMaxBytes(), c.maxWait(), c.readAheadBytes()),
                new io.strata.fetch.txn.CommittedReads(transactions), streams);
        ShareRole shareRole = closeables.register(new ShareRole(fetch, index, metadata, config, ingest, access,
                internalPort.nodesOnly(), internalPort.dialer(), meters, timer, streams));
        closeables.register(new DelayRole(metadata, fetch, index, shareRole.appender(), objects, owned, meters));
        closeables.register(new HalfDelivery(metadata, fetch, index, shareRole.appender(), checkBacks, owned,
                new io.strata.fetch.half.HalfWorker.Settings(config.half().checkInterval().toMillis(),
                        config.half().maxChecks()), meters));
        // Closed before the cache and the index it reads: open streams end with UNAVAILABLE, consumers
        // go on at another fetch node from their position.
        closeables.register(() -> LOG.infof("ended %d subscription streams",
                fetch.endSubscriptions("this fetch node is stopping; another one answers")));
        metrics(meters, fetch, footers, cache);
        return new FetchRole(fetch, cache, streams, shareRole.handler(), tail);
    }

    private static ChunkCache cache(StrataConfig config, ObjectStore objects) {
        StrataConfig.Fetch c = config.fetch();
        Path diskDir = Path.of(c.diskCacheDir().orElse(Path.of(config.dataDir(), "fetch-cache").toString()));
        // The memory tier, loads in flight and answers being sent share the heap: keep the tier to a quarter.
        HeapShare tier = HeapShare.of(c.cacheMaxBytes(), StrataConfig.Fetch.DEFAULT_CACHE_BYTES,
                HeapShare.maxHeap() / 4);
        long memoryTier = tier.bytes();
        if (tier.setAndCut()) {
            LOG.warnf("strata.fetch.cache-max-bytes=%d is more than a quarter of the heap; using %d (raise -Xmx "
                    + "to use more)", c.cacheMaxBytes().get(), memoryTier);
        }
        long diskTier = c.diskCacheMaxBytes(config.objectStore().type());
        // Said at every start: a default cut to a small heap is not warned about, and this is where it shows.
        LOG.infof("chunk cache: %d bytes in memory (at most a quarter of the heap), %s", memoryTier,
                diskTier > 0 ? diskTier + " on disk in " + diskDir : "no disk tier");
        return new ChunkCache(objects, new ChunkCache.Settings(memoryTier, diskDir, diskTier, c.maxGetBytes(),
                c.maxGapBytes()));
    }

    private static void metrics(MeterRegistry meters, FetchHandler fetch, SegmentFooters footers, ChunkCache cache) {
        RoleMetrics.counter(meters, "strata.fetch.filter.chunks.passed.over", fetch, FetchHandler::chunksPassedOver);
        NodeMetrics.reads(meters, fetch.readStats());
        RoleMetrics.counter(meters, "strata.fetch.segment.footer.reads", footers, SegmentFooters::reads);
        RoleMetrics.counter(meters, "strata.fetch.segment.footer.corrupt", footers, SegmentFooters::corrupt);
        RoleMetrics.counter(meters, "strata.fetch.cache.requests", cache, ChunkCache::requests);
        RoleMetrics.counter(meters, "strata.fetch.cache.memory.hits", cache, ChunkCache::memoryHits);
        RoleMetrics.counter(meters, "strata.fetch.cache.disk.hits", cache, ChunkCache::diskHits);
        RoleMetrics.counter(meters, "strata.fetch.cache.disk.dropped", cache, ChunkCache::diskDropped);
        RoleMetrics.counter(meters, "strata.fetch.cache.loads", cache, ChunkCache::loads);
        RoleMetrics.counter(meters, "strata.fetch.cache.loaded.bytes", cache, ChunkCache::loadedBytes);
        RoleMetrics.counter(meters, "strata.fetch.cache.handed.over", cache, ChunkCache::handedOver);
        RoleMetrics.counter(meters, "strata.fetch.cache.corrupt", cache, ChunkCache::corrupt);
        meters.gauge("strata.fetch.cache.memory.bytes", cache, ChunkCache::memoryBytes);
        meters.gauge("strata.fetch.cache.disk.bytes", cache, ChunkCache::diskBytes);
    }
}
