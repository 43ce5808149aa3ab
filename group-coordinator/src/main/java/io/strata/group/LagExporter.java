package io.strata.group;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.WorkLock;
import io.strata.metadata.WorkerSession;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Computes every group's lag each interval on one node of the cluster: the one holding the {@code group-lag}
 * lock, so a metrics scrape of the cluster counts each partition once however many nodes there are. The
 * others publish nothing. Hands each pass's descriptions to {@code sink}.
 *
 * <p>Owns the thread {@code strata-group-lag}; {@link #close()} stops it and releases the lock.
 */
public final class LagExporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LagExporter.class);

    private final MetadataStore metadata;
    private final GroupCoordinator coordinator;
    private final String owner;
    private final Consumer<List<GroupDescription>> sink;
    /** Told each pass whether this node is the one that exports (for lags of other kinds: share groups). */
    private final Consumer<Boolean> exporting;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "strata-group-lag");
        t.setDaemon(true);
        return t;
    });
    private WorkerSession session;
    private WorkLock lock;

    public LagExporter(MetadataStore metadata, GroupCoordinator coordinator, String owner, Duration interval,
                       Consumer<List<GroupDescription>> sink) {
        this(metadata, coordinator, owner, interval, sink, holder -> { });
    }

    /** As above; {@code exporting} is told each pass whether this node exports, after {@code sink}. */
    public LagExporter(MetadataStore metadata, GroupCoordinator coordinator, String owner, Duration interval,
                       Consumer<List<GroupDescription>> sink, Consumer<Boolean> exporting) {
        this.exporting = exporting;
        this.metadata = metadata;
        this.coordinator = coordinator;
        this.owner = owner;
        this.sink = sink;
        long every = interval.toMillis();
        timer.scheduleWithFixedDelay(this::pass, Math.min(every, 1_000), every, TimeUnit.MILLISECONDS);
    }

    private void pass() {
        try {
            if (!holdsLock()) {
                sink.accept(List.of());
                exporting.accept(false);
                return;
            }
            List<GroupDescription> all = coordinator.describeAll().get(1, TimeUnit.MINUTES);
            sink.accept(all);
            exporting.accept(true);
        } catch (Exception e) {
            LOG.warn("computing consumer group lag failed (tried again next interval): {}", e.toString());
        }
    }

    private boolean holdsLock() throws Exception {
        if (session != null && session.lost().isDone()) {
            session = null;
            lock = null;
        }
        if (session == null) {
            session = metadata.compaction().openSession(owner, Duration.ofSeconds(15)).get(30, TimeUnit.SECONDS);
        }
        if (lock == null) {
            Optional<WorkLock> taken = session.tryLock("group-lag").get(30, TimeUnit.SECONDS);
            lock = taken.orElse(null);
        }
        return lock != null;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        if (session != null) {
            session.close();
        }
    }
}
