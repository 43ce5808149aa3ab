package io.strata.server.txn;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.fetch.half.HalfChecker;
import io.strata.fetch.half.HalfWorker;
import io.strata.fetch.index.IndexView;
import io.strata.fetch.share.RecordAppender;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.server.metrics.RoleMetrics;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * Half messages on a node with the fetch role: a {@link HalfWorker} for the partitions the node owns, on a thread of
 * its own, a pass every {@link #PASS_MS}, and its metrics.
 */
public final class HalfDelivery implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(HalfDelivery.class);
    static final long PASS_MS = 500;

    private final ScheduledExecutorService thread;

    public HalfDelivery(MetadataStore metadata, FetchHandler fetch, IndexView index, RecordAppender appender,
                        HalfChecker checker, Predicate<PartitionId> owns, HalfWorker.Settings settings,
                        MeterRegistry meters) {
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-half");
            t.setDaemon(true);
            return t;
        });
        // Answers to checks are written on this thread, between passes.
        HalfWorker worker = new HalfWorker(metadata, fetch, index, appender, checker, owns, settings,
                Clock.systemUTC(), thread);
        thread.scheduleWithFixedDelay(() -> {
            try {
                worker.runOnce();
            } catch (Throwable e) { // even running out of memory must not end the passes for good
                LOG.warnf("half messages pass failed (next pass in %d ms): %s", PASS_MS, e.toString());
            }
        }, PASS_MS, PASS_MS, TimeUnit.MILLISECONDS);
        RoleMetrics.counter(meters, "strata.half.messages.found", worker, HalfWorker::found);
        RoleMetrics.counter(meters, "strata.half.messages.delivered", worker, HalfWorker::delivered);
        RoleMetrics.counter(meters, "strata.half.messages.dropped", worker, HalfWorker::dropped);
        RoleMetrics.counter(meters, "strata.half.checks.asked", worker, HalfWorker::checksAsked);
        RoleMetrics.counter(meters, "strata.half.checks.decided", worker, HalfWorker::decidedByCheck);
        RoleMetrics.counter(meters, "strata.half.checks.exhausted", worker, HalfWorker::checksExhausted);
        Gauge.builder("strata.half.messages.pending", worker, HalfWorker::pending)
                .description("Half messages undecided in the partitions this node delivers").register(meters);
    }

    @Override
    public void close() throws InterruptedException {
        thread.shutdownNow();
        thread.awaitTermination(5, TimeUnit.SECONDS);
    }
}
