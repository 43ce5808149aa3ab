package io.strata.server.console;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.strata.api.v1.DescribeHistoryRequest;
import io.strata.api.v1.Series;
import io.strata.console.history.History;
import io.strata.group.GroupDescription;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.PartitionOffsets;
import io.strata.metadata.Topic;
import io.strata.metadata.group.TopicPartition;
import io.strata.server.StrataNode;
import io.strata.server.config.StrataConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * The console's charts: every {@code strata.console.history-interval} this node reads what the metadata store says
 * of the whole cluster (each topic's end offsets, each group's lag per partition) into a bounded {@link History}.
 * Any node answers for the cluster, and no store of time series has to run; a node that started recently has less
 * to show.
 *
 * <p>The topics' ends are read {@link #SHARDS_PER_READ} metadata shards at a time, the reads spread over half an
 * interval, rather than every partition's end in one burst of etcd reads on every node. A topic's point is then
 * the sum of ends read a few seconds apart, each partition at the same moment of every round, so the rate between
 * two points is still right. The groups' lag is taken from those ends and the commits read after them: up to half
 * an interval's records low, rather than a second burst.
 *
 * <p>Reading a shard's ends on a node that does not hold its ledger reads the shard whole and keeps the ledger. An
 * ingest node holds the ledgers of the shards it commits to (with two ingest nodes, the producers' shard affinity
 * gives each about half); a round makes a node build at most {@link #NEW_LEDGERS_PER_ROUND} more. Spread or not,
 * the charts making every node build every shard's ledger in a new cluster's first seconds stalled produce (a third
 * of cold 2,000-partition runs above 490 ms, none with the console off). So a node new to a cluster of many
 * partitions charts a topic over shards it does not hold yet a few rounds later: with 256 shards, about 8 rounds on
 * such an ingest node and 16 on a node that commits nothing; a group's lag waits for the ends of all its partitions.
 * (A held ledger that fell far behind, after rounds that failed for minutes while compaction merged its entries, is
 * still read whole: the budget does not count those.)
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
    /** Metadata shards whose partitions' ends one read takes. */
    static final int SHARDS_PER_READ = 16;
    /** Shards whose ledger a round may make this node build (read whole, then kept up to date). */
    static final int NEW_LEDGERS_PER_ROUND = 16;
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
        timer.schedule(this::round, Math.min(c.historyInterval().toMillis(), 1_000), TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /**
     * A round, then the next one an interval after this one began; a round that took longer is followed at once,
     * never by the rounds it overran (a catch-up burst would hit the store when it is slow).
     */
    private void round() {
        long every = config.console().historyInterval().toMillis();
        long began = System.currentTimeMillis();
        try {
            sample();
        } catch (Throwable e) { // never the end of the charts
            LOG.debugf(e, "console history: a sampling round failed");
        }
        long next = Math.max(0, began + every - System.currentTimeMillis());
        try {
            timer.schedule(this::round, next, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // shut down
        }
    }

    /** One round: a failed read leaves its series out of the round (a gap in the charts), never a wrong point. */
    void sample() {
        if (!node.ready()) {
            return;
        }
        long timeoutMs = config.metadata().timeout().toMillis() * 2;
        long every = config.console().historyInterval().toMillis();
        long began = System.currentTimeMillis();
        // The whole round's bound: a slow store leaves a gap, never a round that runs on for minutes.
        long deadline = began + Math.max(every, timeoutMs);
        Map<TopicPartition, PartitionOffsets> ends = new HashMap<>();
        try {
            Map<History.Key, Double> records = new LinkedHashMap<>();
            topicRecords(began, every / 2, deadline, ends).forEach((topic, n) ->
                    records.put(History.Key.of(TOPIC_RECORDS, "topic", topic), (double) n));
            totals.record(began, records);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            // No lag either: with the ends unread, it would read every group partition's end at once, on a store
            // already slow.
            LOG.debugf(e, "console history: reading the topics' ends failed");
            return;
        }
        try {
            long now = System.currentTimeMillis();
            Map<History.Key, Double> round = new LinkedHashMap<>();
            Map<History.Key, Double> perPartition = new LinkedHashMap<>();
            // From the ends just read, none read again: that would be the burst the spread avoids. A group with a
            // partition whose end this round did not read (its shard waits, or its topic is newer) has no point.
            List<GroupDescription> groups = node.groups().coordinator().describeAll(ends)
                    .get(Math.max(1, deadline - now), TimeUnit.MILLISECONDS);
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
            LOG.debugf(e, "console history: reading the groups' lag failed");
        }
    }

    /**
     * Each topic's records (the sum of its partitions' ends). The shards are read {@link #SHARDS_PER_READ} at a time,
     * the k-th such slot of shards at {@code began} + k/slots of {@code spreadMs} in every round, so each partition
     * is read at the same moment of each round whatever topics come and go. A topic deleted meanwhile is left out.
     * Every partition's range read goes into {@code ends}. Gives up (TimeoutException) at {@code deadline}.
     */
    private Map<String, Long> topicRecords(long began, long spreadMs, long deadline,
                                           Map<TopicPartition, PartitionOffsets> ends) throws Exception {
        MetadataStore metadata = node.metadata();
        List<Topic> topics = metadata.listTopics().get(left(deadline), TimeUnit.MILLISECONDS);
        int slots = (metadata.cluster().shards() + SHARDS_PER_READ - 1) / SHARDS_PER_READ;
        SortedMap<Integer, List<PartitionId>> byShard = new TreeMap<>();
        for (Topic t : topics) {
            for (int p = 0; p < t.partitions(); p++) {
                PartitionId id = t.partition(p);
                byShard.computeIfAbsent(metadata.shardOf(id), k -> new ArrayList<>()).add(id);
            }
        }
        // At most NEW_LEDGERS_PER_ROUND shards whose ledger this node does not hold yet: the topics with partitions
        // in the others have no point this round, and the next rounds take those shards on.
        ChartReads plan = ChartReads.plan(byShard, metadata::holdsLedger, NEW_LEDGERS_PER_ROUND, SHARDS_PER_READ);
        SortedMap<Integer, List<PartitionId>> bySlot = plan.bySlot();
        Set<Long> waiting = plan.waiting();
        Map<Long, String> names = new HashMap<>();
        topics.forEach(t -> names.put(t.topicId(), t.name()));
        Map<Long, Long> records = new HashMap<>();
        for (Map.Entry<Integer, List<PartitionId>> slot : bySlot.entrySet()) {
            long wait = began + spreadMs * slot.getKey() / slots - System.currentTimeMillis();
            if (wait > 0) {
                Thread.sleep(wait);
            }
            for (PartitionOffsets o : metadata.offsets(slot.getValue()).get(left(deadline), TimeUnit.MILLISECONDS)) {
                records.merge(o.partition().topicId(), o.nextOffset(), Long::sum);
                ends.put(new TopicPartition(names.get(o.partition().topicId()), o.partition().partition()), o);
            }
        }
        Set<Long> live = new HashSet<>();
        metadata.listTopics().get(left(deadline), TimeUnit.MILLISECONDS).forEach(t -> live.add(t.topicId()));
        Map<String, Long> byName = new LinkedHashMap<>();
        for (Topic t : topics) {
            if (live.contains(t.topicId()) && !waiting.contains(t.topicId())) {
                byName.put(t.name(), records.getOrDefault(t.topicId(), 0L));
            }
        }
        return byName;
    }

    /** What is left until {@code deadline}, at least a millisecond (a wait of 0 would not wait at all). */
    private static long left(long deadline) {
        return Math.max(1, deadline - System.currentTimeMillis());
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
