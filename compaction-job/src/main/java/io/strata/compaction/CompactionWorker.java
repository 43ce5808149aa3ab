package io.strata.compaction;

import static io.strata.compaction.Blocking.await;

import io.strata.compaction.exec.ShardCompactor;
import io.strata.compaction.gc.GarbageCollector;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.WorkLock;
import io.strata.metadata.WorkerSession;
import io.strata.storage.object.ObjectStore;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compaction job: every {@code interval} it passes over every metadata shard (merging, expiring and
 * removing deleted topics' data: {@link ShardCompactor}), then, every half grace period, collects garbage
 * ({@link GarbageCollector}).
 * Work is split by shard through locks bound to this worker's lease, so any number of workers (or the same
 * one-shot job started twice) never work on one shard at once, and a worker that dies or pauses past its
 * lease loses its locks and cannot change anything any more. Each pass starts at a random shard, so several
 * workers spread over the shards.
 *
 * <p>Owns one thread, {@code strata-compaction}, on which every pass runs, and its lease; {@link #close()}
 * stops both (a pass under way finishes its current shard first).
 */
public final class CompactionWorker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CompactionWorker.class);

    private final MetadataStore metadata;
    private final CompactionSettings settings;
    private final String owner;
    private final ShardCompactor compactor;
    private final GarbageCollector collector;
    private final CompactionStats stats = new CompactionStats();
    private final Clock clock;
    private final ScheduledExecutorService thread;
    private WorkerSession session;
    private volatile boolean closed;
    /**
     * When this worker last collected garbage. The collector lists the whole bucket, and S3 bills a LIST per
     * 1,000 objects, so it runs every half grace period rather than every pass: an object is still deleted
     * within about two grace periods of its last reference.
     */
    private long lastCollection = Long.MIN_VALUE / 2;

    public CompactionWorker(MetadataStore metadata, ObjectStore objects, CompactionSettings settings, String owner,
                            Clock clock) {
        this(metadata, objects, objects, settings, owner, clock);
    }

    /** A worker whose merges read their sources through {@code sourceObjects} (a block cache over {@code objects}). */
    public CompactionWorker(MetadataStore metadata, ObjectStore objects, ObjectStore sourceObjects,
                            CompactionSettings settings, String owner, Clock clock) {
        this.metadata = metadata;
        this.settings = settings;
        this.owner = owner;
        this.clock = clock;
        this.compactor = new ShardCompactor(metadata, objects, sourceObjects, settings, stats, clock);
        this.collector = new GarbageCollector(metadata, objects, settings, stats, clock);
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-compaction");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Passes every {@code interval} from now on, the first after one interval; garbage is collected from the
     * second pass on, and on a cluster younger than half a grace period from then on
     * ({@link #firstCollectionBase}).
     */
    public void start() {
        long base = firstCollectionBase(clock.millis(), metadata.cluster().createdAtMs(), settings);
        thread.execute(() -> lastCollection = base);
        thread.scheduleWithFixedDelay(() -> {
            try {
                pass();
            } catch (RuntimeException e) {
                stats.failure();
                LOG.warn("compaction pass failed; the next one starts in {}: {}", settings.interval(), e.toString());
            }
        }, settings.interval().toMillis(), settings.interval().toMillis(), TimeUnit.MILLISECONDS);
        LOG.info("compaction worker {} started: a pass every {}, merging WAL chunks older than {}, segments up to {} "
                + "bytes, garbage grace {}", owner, settings.interval(), settings.minAge(), settings.segmentBytes(),
                settings.gcGrace());
    }

    /**
     * What a started worker counts its first collection from (collections come every half grace period).
     * Not its first pass: a node's first pass comes while its JVM and the cluster's other processes are
     * still cold, and a collection (the whole index read again, the whole bucket listed) made it the worst 5
     * seconds of a fresh cluster's first minute (issue 27); from its second pass on, so a node restarted
     * often still collects. On a cluster younger than the grace period nothing can be collected yet (only
     * objects older than it are even marked): its first collection waits until half a grace period into
     * its life.
     */
    static long firstCollectionBase(long startMs, long clusterCreatedMs, CompactionSettings settings) {
        long halfGrace = settings.gcGrace().toMillis() / 2;
        return Math.max(clusterCreatedMs, startMs + 2 * settings.interval().toMillis() - halfGrace);
    }

    /** One whole pass now, on the worker's thread (a one-shot run, and tests); answers when it is done. */
    public void runOnce() {
        await(java.util.concurrent.CompletableFuture.runAsync(this::pass, thread));
    }

    public CompactionStats stats() {
        return stats;
    }

    private synchronized WorkerSession session() {
        if (session == null || session.lost().isDone()) {
            if (session != null) {
                LOG.warn("compaction worker {} lost its lease; taking a new one", owner);
                session.close();
            }
            session = await(metadata.compaction().openSession(owner, settings.lockTtl()));
        }
        return session;
    }

    private void pass() {
        long started = clock.millis();
        long[] before = counted();
        int shards = metadata.cluster().shards();
        int first = ThreadLocalRandom.current().nextInt(shards);
        long entries = 0;
        long oldest = Long.MAX_VALUE;
        long lag = 0;
        int worked = 0;
        int shardsWorked = 0;
        for (int i = 0; i < shards && !closed; i++) {
            int shard = (first + i) % shards;
            Optional<WorkLock> lock = await(session().tryLock(String.format("shard-%05d", shard)));
            if (lock.isEmpty()) {
                continue; // another worker has it
            }
            shardsWorked++;
            try {
                ShardCompactor.Outcome outcome = compactor.run(shard, lock.get());
                entries += outcome.entries();
                oldest = Math.min(oldest, outcome.oldestWalCommitMs());
                lag = Math.max(lag, outcome.retentionLagMs());
                worked += outcome.steps();
            } catch (RuntimeException e) {
                stats.failure();
                LOG.warn("compaction of shard {} failed (retried next pass): {}", shard, e.toString());
            } finally {
                release(lock.get());
            }
        }
        if (!closed && clock.millis() - lastCollection >= settings.gcGrace().toMillis() / 2) {
            lastCollection = clock.millis();
            Optional<WorkLock> gc = await(session().tryLock("gc"));
            if (gc.isPresent()) {
                try {
                    collector.pass(gc.get());
                } finally {
                    release(gc.get());
                }
            }
        }
        long now = clock.millis();
        long oldestAge = oldest == Long.MAX_VALUE ? 0 : Math.max(0, now - oldest);
        stats.passDone(entries, oldestAge, lag, now - started);
        long[] after = counted();
        try {
            // Written down for the console (any node shows it); a pass that cannot be noted is still done.
            await(metadata.compaction().recordPass(new io.strata.metadata.CompactionPass(owner, now, now - started,
                    shardsWorked, after[0] - before[0], after[1] - before[1], after[2] - before[2],
                    after[3] - before[3], after[4] - before[4], after[5] - before[5], after[6] - before[6], entries,
                    oldestAge, lag), PASSES_KEPT));
        } catch (RuntimeException e) {
            LOG.debug("compaction pass not written down: {}", e.toString());
        }
        if (worked > 0) {
            LOG.info("compaction pass: {} steps in {} ms; {} index entries", worked, now - started, entries);
        }
    }

    /** How long a worker that stopped passing is remembered (a CronJob's pods come and go: a few dozen an hour). */
    private static final java.time.Duration PASSES_KEPT = java.time.Duration.ofHours(1);

    /** The counters a pass reports the change of, in CompactionPass's order. */
    private long[] counted() {
        return new long[] {stats.steps(), stats.segmentsWritten(), stats.bytesMerged(), stats.bytesExpired(),
                stats.bytesCleaned(), stats.objectsDeleted(), stats.failures()};
    }

    private void release(WorkLock lock) {
        try {
            await(session().unlock(lock));
        } catch (RuntimeException e) {
            LOG.debug("releasing {} (it ends with the lease anyway)", lock.name(), e);
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.shutdown();
        try {
            if (!thread.awaitTermination(30, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (session != null) {
                session.close();
            }
        }
    }
}
