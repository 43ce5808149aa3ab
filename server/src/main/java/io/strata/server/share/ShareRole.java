package io.strata.server.share;

import io.grpc.ManagedChannel;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.fetch.index.IndexView;
import io.strata.fetch.share.DeadLetterGuard;
import io.strata.fetch.share.ShareGroupsView;
import io.strata.fetch.share.ShareHandler;
import io.strata.ingest.grpc.ProduceHandler;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.security.AclOperation;
import io.strata.security.Identity;
import io.strata.security.Need;
import io.strata.server.config.StrataConfig;
import io.strata.server.metrics.RoleMetrics;
import io.strata.server.security.AccessControl;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * Share groups on a node with the fetch role: the handler, where its dead-letter copies are written (this node's
 * ingest handler, or an ingest node), who may have them written, and its metrics. Owns the appender's channels.
 */
public final class ShareRole implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ShareRole.class);

    private final NodeRecordAppender appender;
    private final ShareHandler handler;
    /** Share partitions' decisions, one at a time (see ShareHandler): quick, and never behind records decoded. */
    private final java.util.concurrent.ExecutorService decisions =
            java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "strata-share-decisions");
                t.setDaemon(true);
                return t;
            });

    /**
     * @param ingest            this node's ingest handler, or null when it does not run the ingest role
     * @param internalTls       whether the node-to-node port takes node certificates only
     */
    public ShareRole(FetchHandler fetch, IndexView index, MetadataStore metadata, StrataConfig config,
                     ProduceHandler ingest, AccessControl access, boolean internalTls,
                     Function<String, ManagedChannel> dialer, MeterRegistry meters, ScheduledExecutorService timer,
                     Executor work) {
        this.appender = new NodeRecordAppender(ingest, metadata, dialer);
        // Copies are written while who named the dead-letter topic may read the source and write the topic.
        DeadLetterGuard guard = (principal, groups, source, target) -> {
            Identity who = new Identity(principal.isEmpty() ? Identity.ANONYMOUS.principal() : principal, groups,
                    "group-settings");
            return access.allowed(who, Need.topic(AclOperation.CONSUME, source))
                    && access.allowed(who, Need.topic(AclOperation.PRODUCE, target));
        };
        if (ingest == null && access.required() && !internalTls) {
            LOG.warn("this fetch node cannot write share groups' dead-letter copies: ingest nodes take them on "
                    + "their node-to-node port only over mutual TLS while authentication is required "
                    + "(strata.tls.internal.*)");
        }
        this.handler = new ShareHandler(fetch, index, metadata.shares(), metadata.groupSettings(),
                SharePolicies.of(config.share()), appender, guard, Clock.systemUTC(), timer, work, decisions);
        io.micrometer.core.instrument.Timer acks = io.micrometer.core.instrument.Timer
                .builder("strata.share.acknowledge").description("share acknowledgements, from arrival until stored")
                .publishPercentiles(0.5, 0.99).register(meters);
        handler.onAcknowledged(nanos -> acks.record(nanos, TimeUnit.NANOSECONDS));
        RoleMetrics.counter(meters, "strata.share.records.delivered", handler, ShareHandler::delivered);
        // Range reads are share groups' (and dead letters' and delayed records'): counted with them.
        RoleMetrics.counter(meters, "strata.fetch.range.chunks.decoded", fetch, FetchHandler::rangeChunksDecoded);
        RoleMetrics.counter(meters, "strata.share.records.redelivered", handler, ShareHandler::redelivered);
        RoleMetrics.counter(meters, "strata.share.records.dead.lettered", handler, ShareHandler::deadLettered);
        RoleMetrics.counter(meters, "strata.share.dead.letters.refused", handler, ShareHandler::deadLettersDenied);
    }

    public ShareHandler handler() {
        return handler;
    }

    /** Where this node writes records of its own (dead-letter copies, delayed records come due). */
    public io.strata.fetch.share.RecordAppender appender() {
        return appender;
    }

    /**
     * Share groups' lag and held records, on the node that exports lags (nothing on the others), which also
     * removes the states of deleted topics every {@code forgetEvery} (one range over every group's states): one
     * node of the cluster does it.
     */
    public static void exportLag(ShareGroupsView view, boolean exporting, MultiGauge lag, MultiGauge acquired,
                                 int maxSeries, java.time.Duration forgetEvery) {
        List<MultiGauge.Row<?>> lags = new ArrayList<>();
        List<MultiGauge.Row<?>> held = new ArrayList<>();
        if (exporting) {
            try {
                int forgotten = view.forgetDeletedTopicsEvery(forgetEvery).get(1, TimeUnit.MINUTES);
                if (forgotten > 0) {
                    LOG.infof("removed %d share group partition states of deleted topics", forgotten);
                }
            } catch (Exception e) {
                LOG.warnf("removing deleted topics' share states failed (tried again later): %s", e.toString());
            }
            try {
                for (var g : view.list().get(1, TimeUnit.MINUTES).getGroupsList()) {
                    if (lags.size() >= maxSeries) {
                        break;
                    }
                    Tags tags = Tags.of("group", g.getGroup());
                    lags.add(MultiGauge.Row.of(tags, g.getLag()));
                    held.add(MultiGauge.Row.of(tags, g.getAcquired()));
                }
            } catch (Exception e) {
                LOG.warnf("computing share group lag failed (tried again next interval): %s", e.toString());
                lags.clear(); // no figures rather than stale ones
                held.clear();
            }
        }
        lag.register(lags, true);
        acquired.register(held, true);
    }

    @Override
    public void close() {
        // Decisions already queued still run (their callers get an answer, if only a failure); new ones are
        // refused with UNAVAILABLE.
        decisions.shutdown();
        try {
            decisions.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        appender.close();
    }
}
