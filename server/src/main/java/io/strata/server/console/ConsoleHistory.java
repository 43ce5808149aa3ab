package io.strata.server.console;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.strata.api.v1.DescribeHistoryRequest;
import io.strata.api.v1.Series;
import io.strata.api.v1.TopicDescription;
import io.strata.console.history.History;
import io.strata.group.GroupDescription;
import io.strata.server.StrataNode;
import io.strata.server.config.StrataConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * The console's charts: every {@code strata.console.history.interval} this node reads what the metadata store says
 * of the whole cluster (each topic's end offsets, each group's lag per partition) into a bounded {@link History}.
 * Any node answers for the cluster, and no store of time series has to run; a node that started recently has less
 * to show.
 */
@ApplicationScoped
public class ConsoleHistory {
    private static final Logger LOG = Logger.getLogger(ConsoleHistory.class);
    static final String TOPIC_RECORDS = "topic.records";
    static final String GROUP_LAG = "group.lag";
    static final String PARTITION_LAG = "group.partition.lag";

    @Inject
    StrataNode node;
    @Inject
    StrataConfig config;

    /** Topics' records and groups' totals: never crowded out by the partitions' series, kept apart. */
    private volatile History totals;
    private volatile History partitions;
    /** The most series one answer carries: narrow a request by name, topic or group for the others. */
    static final int MAX_SERIES_PER_ANSWER = 1_000;
    private ScheduledExecutorService timer;

    void start(@Observes StartupEvent event) {
        StrataConfig.Console c = config.console();
        if (!c.enabled()) {
            return;
        }
        totals = new History(c.historyInterval().toMillis(), c.historyRetention().toMillis(), c.historyMaxSeries());
        partitions = new History(c.historyInterval().toMillis(), c.historyRetention().toMillis(),
                c.historyMaxSeries());
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-console-history");
            t.setDaemon(true);
            return t;
        });
        long every = c.historyInterval().toMillis();
        timer.scheduleWithFixedDelay(this::sample, Math.min(every, 1_000), every, TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /** One round: a failed read leaves the round out (a gap in the charts), never a wrong point. */
    void sample() {
        if (!node.ready()) {
            return;
        }
        long timeoutMs = config.metadata().timeout().toMillis() * 2;
        try {
            long now = System.currentTimeMillis();
            Map<History.Key, Double> round = new LinkedHashMap<>();
            Map<History.Key, Double> perPartition = new LinkedHashMap<>();
            for (TopicDescription t : node.admin().listTopics(true).get(timeoutMs, TimeUnit.MILLISECONDS).getTopicsList()) {
                double end = 0;
                for (var p : t.getPartitionDetailsList()) {
                    end += p.getEndOffset();
                }
                round.put(History.Key.of(TOPIC_RECORDS, "topic", t.getName()), end);
            }
            List<GroupDescription> groups = node.groups().coordinator().describeAll()
                    .get(timeoutMs, TimeUnit.MILLISECONDS);
            for (GroupDescription g : groups) {
                round.put(History.Key.of(GROUP_LAG, "group", g.group()), (double) g.totalLag());
            }
            for (GroupDescription g : groups) {
                for (GroupDescription.PartitionLag p : g.partitions()) {
                    if (p.lag() >= 0) {
                        perPartition.put(History.Key.of(PARTITION_LAG, "group", g.group(), "topic", p.partition().topic(),
                                "partition", Integer.toString(p.partition().partition())), (double) p.lag());
                    }
                }
            }
            totals.record(now, round);
            partitions.record(now, perPartition);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.debugf(e, "console history: a sampling round failed");
        }
    }

    /** The series a request names, as the API answers them (cut to what the caller may see by the access rules). */
    public io.strata.api.v1.History describe(DescribeHistoryRequest request) {
        History t = totals;
        History p = partitions;
        if (t == null) {
            throw io.grpc.Status.FAILED_PRECONDITION.withDescription("the console is off on this node "
                    + "(strata.console.enabled=false): it keeps no history").asRuntimeException();
        }
        Set<String> names = Set.copyOf(request.getNamesList());
        Predicate<History.Key> which = k -> (names.isEmpty() || names.contains(k.name()))
                && (request.getTopic().isEmpty() || request.getTopic().equals(k.label("topic")))
                && (request.getGroup().isEmpty() || request.getGroup().equals(k.label("group")));
        io.strata.api.v1.History.Builder out = io.strata.api.v1.History.newBuilder().setNodeId(node.nodeId())
                .setIntervalMs(config.console().historyInterval().toMillis()).setSinceMs(Math.max(0, t.sinceMs()))
                .setSeriesDropped(t.dropped() + p.dropped());
        long now = System.currentTimeMillis();
        List<History.Series> found = new java.util.ArrayList<>(t.read(which, now));
        if (names.isEmpty() || names.contains(PARTITION_LAG)) {
            found.addAll(p.read(which, now));
        }
        for (History.Series s : found.subList(0, Math.min(found.size(), MAX_SERIES_PER_ANSWER))) {
            Series.Builder b = Series.newBuilder().setName(s.key().name()).putAllLabels(s.key().labels());
            for (int i = 0; i < s.timesMs().length; i++) {
                b.addTimesMs(s.timesMs()[i]).addValues(s.values()[i]);
            }
            out.addSeries(b);
        }
        out.setSeriesLeftOut(Math.max(0, found.size() - MAX_SERIES_PER_ANSWER));
        return out.build();
    }
}
