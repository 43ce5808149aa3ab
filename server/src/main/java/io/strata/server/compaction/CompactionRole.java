package io.strata.server.compaction;

import io.micrometer.core.instrument.MeterRegistry;
import io.strata.compaction.CompactionSettings;
import io.strata.compaction.CompactionStats;
import io.strata.compaction.CompactionWorker;
import io.strata.compaction.exec.WalBlockCache;
import io.strata.metadata.MetadataStore;
import io.strata.server.config.HeapShare;
import io.strata.server.config.StrataConfig;
import io.strata.server.metrics.RoleMetrics;
import io.strata.storage.object.ObjectStore;
import java.time.Clock;
import org.jboss.logging.Logger;

/**
 * The compaction role: a worker that passes over every shard each interval, or (run-once) one pass and an exit,
 * for a Kubernetes CronJob. Segments are built in memory, so their size is kept within an eighth of the heap.
 */
public final class CompactionRole {
    private static final Logger LOG = Logger.getLogger(CompactionRole.class);

    private CompactionRole() {
    }

    /** Starts the role; the worker answered is the caller's to close. */
    public static CompactionWorker start(StrataConfig config, MetadataStore metadata, ObjectStore objects,
                                         MeterRegistry meters, String nodeId, Clock clock) {
        StrataConfig.Compaction c = config.compaction();
        HeapShare segment = HeapShare.of(c.segmentBytes(), StrataConfig.Compaction.DEFAULT_SEGMENT_BYTES,
                Math.max(1L << 20, HeapShare.maxHeap() / 8));
        long segmentBytes = segment.bytes();
        if (segment.setAndCut()) {
            LOG.warnf("strata.compaction.segment-bytes=%d is more than an eighth of the heap; building segments of "
                    + "%d bytes (raise -Xmx to build larger ones)", c.segmentBytes().get(), segmentBytes);
        }
        CompactionSettings settings = new CompactionSettings(c.interval(), c.minAge(), segmentBytes,
                (int) Math.min(c.segmentChunkBytes(), segmentBytes), c.smallSegmentBytes(), c.tierFanIn(),
                config.gc().grace(), c.historyKeep(), c.lockTtl(), c.compressionLevel(), c.maxStepsPerShard(),
                Math.min(c.keyMapBytes(), Math.max(1L << 16, HeapShare.maxHeap() / 8)),
                c.minCleanableRatio(), c.maxAge().orElse(c.minAge().multipliedBy(4)),
                config.producer().stateExpiry());
        // A block cache pays on S3, where every GET is billed; a local directory is a disk already.
        ObjectStore sources = objects;
        if ("s3".equals(config.objectStore().type()) && c.blockCacheBytes() > 0) {
            WalBlockCache cache = new WalBlockCache(objects, java.nio.file.Path.of(c.blockCacheDir().orElse(
                    java.nio.file.Path.of(config.dataDir(), "compaction-cache").toString())), c.blockCacheBytes());
            RoleMetrics.counter(meters, "strata.compaction.block.cache.downloads", cache, WalBlockCache::downloads);
            RoleMetrics.counter(meters, "strata.compaction.block.cache.hits", cache, WalBlockCache::hits);
            sources = cache;
        }
        CompactionWorker worker = new CompactionWorker(metadata, objects, sources, settings, nodeId, clock);
        CompactionStats stats = worker.stats();
        RoleMetrics.compaction(meters, stats);
        if (c.runOnce()) {
            Thread once = new Thread(() -> {
                int code = 0;
                try {
                    worker.runOnce();
                    LOG.infof("compaction run done: %d steps, %d objects deleted", stats.steps(), stats.objectsDeleted());
                } catch (RuntimeException e) {
                    LOG.error("compaction run failed", e);
                    code = 1;
                }
                io.quarkus.runtime.Quarkus.asyncExit(code);
            }, "strata-compaction-once");
            once.setDaemon(true);
            once.start();
        } else {
            worker.start();
        }
        return worker;
    }
}
