package io.strata.server.delay;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.strata.fetch.delay.DelayWorker;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.fetch.index.IndexView;
import io.strata.fetch.share.RecordAppender;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.server.metrics.RoleMetrics;
import io.strata.storage.object.ObjectStore;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * Delayed delivery on a node with the fetch role: a {@link DelayWorker} for the partitions the node owns, on a thread
 * of its own, and its metrics.
 */
public final class DelayRole implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DelayRole.class);
    /** How often the worker looks for staged and due records. */
    static final long PASS_MS = 200;

    private final ScheduledExecutorService thread;

    public DelayRole(MetadataStore metadata, FetchHandler fetch, IndexView index, RecordAppender appender,
                     ObjectStore objects, Predicate<PartitionId> owns, MeterRegistry meters) {
        DelayWorker worker = new DelayWorker(metadata, fetch, index, appender, objects, owns, Clock.systemUTC());
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-delay");
            t.setDaemon(true);
            return t;
        });
        thread.schedule(() -> pass(worker), PASS_MS, TimeUnit.MILLISECONDS);
        RoleMetrics.counter(meters, "strata.delay.records.staged", worker, DelayWorker::staged);
        RoleMetrics.counter(meters, "strata.delay.records.delivered", worker, DelayWorker::delivered);
        RoleMetrics.counter(meters, "strata.delay.rounds.replayed", worker, DelayWorker::replayed);
        RoleMetrics.counter(meters, "strata.delay.rounds.uncertain", worker, DelayWorker::uncertainRounds);
        Gauge.builder("strata.delay.records.pending", worker, DelayWorker::pending)
                .description("Delayed records waiting for their time in the partitions this node delivers")
                .register(meters);
    }

    /**
     * A pass, and the next one when the next known record comes due, or after {@link #PASS_MS} at the latest (to
     * find newly staged records): a record is looked at as it comes due, not up to a pass later.
     */
    private void pass(DelayWorker worker) {
        boolean ran = false;
        try {
            ran = worker.runOnce();
        } catch (Throwable e) { // even running out of memory must not end the passes for good
            LOG.warnf("delayed delivery pass failed (next pass in %d ms): %s", PASS_MS, e.toString());
        }
        long untilDue = ran ? worker.nextDueMs() - System.currentTimeMillis() : PASS_MS;
        try {
            thread.schedule(() -> pass(worker), Math.max(1, Math.min(PASS_MS, untilDue)), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // closed
        }
    }

    @Override
    public void close() throws InterruptedException {
        thread.shutdownNow();
        thread.awaitTermination(5, TimeUnit.SECONDS);
    }
}
