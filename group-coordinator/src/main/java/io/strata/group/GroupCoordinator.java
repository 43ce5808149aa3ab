package io.strata.group;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.PartitionOffsets;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicCache;
import io.strata.metadata.group.CommitOutcome;
import io.strata.metadata.group.CommittedOffset;
import io.strata.metadata.group.GroupMember;
import io.strata.metadata.group.GroupNames;
import io.strata.metadata.group.GroupSnapshot;
import io.strata.metadata.group.GroupStore;
import io.strata.metadata.group.MemberSpec;
import io.strata.metadata.group.OffsetCommit;
import io.strata.metadata.group.OffsetReset;
import io.strata.metadata.group.PartitionOwner;
import io.strata.metadata.group.TopicPartition;
import io.strata.metadata.group.UnknownGroupException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Consumer groups on one node: joins, heartbeats and leaves, the members' assignment streams (through a
 * {@link GroupView} per group with members served here), fenced commits, and the administration (describe,
 * list, reset, delete). Any node can serve any group: everything shared lives in the {@link GroupStore}, and
 * every decision that must be unique (a partition's owner, a target over the one before it) is a guarded
 * transaction there.
 *
 * <p>Owns the threads {@code strata-group-N} (reconciles and blocking metadata calls) and
 * {@code strata-group-timer} (the periodic reconcile); {@link #close()} stops them and ends every stream.
 * Thread-safe.
 */
public final class GroupCoordinator implements AutoCloseable {
    private final MetadataStore metadata;
    private final GroupStore store;
    private final TopicCache topics;
    private final OffsetLookup lookup;
    private final GroupSettings settings;
    private final GroupStats stats = new GroupStats();
    private final ExecutorService workers;
    private final ScheduledExecutorService timer;
    private final Map<String, GroupView> views = new HashMap<>();
    private final SessionHost sessions;
    private final GroupDescriptions descriptions = new GroupDescriptions(this);
    /** Bounds of what members store in the metadata store (Kafka's offset.metadata.max.bytes is 4096). */
    static final int MAX_METADATA_BYTES = 4096;
    static final int MAX_CLIENT_ID = 255;
    static final int MAX_TOPICS = 1000;
    private final java.util.concurrent.atomic.AtomicBoolean ticking = new java.util.concurrent.atomic.AtomicBoolean();
    /** The one watch of every group's coordination while views exist (guarded by {@link #views}). */
    private AutoCloseable watch;
    private boolean closed;

    public GroupCoordinator(MetadataStore metadata, TopicCache topics, OffsetLookup lookup, GroupSettings settings) {
        this.metadata = metadata;
        this.store = metadata.groups();
        this.topics = topics;
        this.lookup = lookup;
        this.settings = settings;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(4, r -> daemon(r, "strata-group-" + n.incrementAndGet()));
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "strata-group-timer"));
        long every = settings.reconcileInterval().toMillis();
        // On a worker: the timer also renews the host lease and sweeps sessions, which must never wait on a pass.
        timer.scheduleWithFixedDelay(() -> {
            if (ticking.compareAndSet(false, true)) {
                workers.execute(() -> {
                    try {
                        tick();
                    } finally {
                        ticking.set(false);
                    }
                });
            }
        }, every, every, TimeUnit.MILLISECONDS);
        this.sessions = new SessionHost(store, settings.hostLeaseTtl(), settings.maxMembersPerNode(), stats, timer,
                this::watchFrom);
        stats.hosted = sessions::size;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public GroupStats stats() {
        return stats;
    }

    GroupStore store() {
        return store;
    }

    TopicCache topics() {
        return topics;
    }

    GroupSettings settings() {
        return settings;
    }

    SessionHost sessions() {
        return sessions;
    }

    Map<TopicPartition, PartitionOffsets> boundsOf(Set<TopicPartition> partitions) throws Exception {
        return bounds(partitions);
    }

    /** Waits for a metadata call within the coordinator's timeout, unwrapping its failure. */
    <T> T await(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    /** Runs {@code work} on the coordinator's threads (it may wait for the store), bounded in time. */
    <T> CompletableFuture<T> blocking(java.util.concurrent.Callable<T> work) {
        CompletableFuture<T> out = new CompletableFuture<>();
        try {
            workers.execute(() -> {
                try {
                    out.complete(work.call());
                } catch (Throwable t) {
                    out.completeExceptionally(t);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            out.completeExceptionally(new io.strata.metadata.MetadataException("the group coordinator is stopped",
                    true)); // UNAVAILABLE: another node serves groups as well
        }
        return out.orTimeout(settings.timeout().toMillis() * 3, TimeUnit.MILLISECONDS);
    }

    // ---- membership

    /**
     * Joins a member; its session is {@code sessionTimeout} (the default when zero), which must be within the
     * server's bounds. Fails with IllegalArgumentException for bad input and {@link UnknownTopicException} for
     * a topic that does not exist.
     */
    public CompletableFuture<GroupMember> join(String group, String clientId, String clientAddress, List<String> topicNames,
                                               Duration sessionTimeout, OffsetReset reset) {
        return blocking(() -> {
            GroupNames.requireGroup(group);
            if (topicNames.isEmpty() || topicNames.size() > MAX_TOPICS) {
                throw new IllegalArgumentException("a member subscribes to 1 to " + MAX_TOPICS + " topics, not "
                        + topicNames.size());
            }
            if (clientId.length() > MAX_CLIENT_ID) {
                throw new IllegalArgumentException("client id of " + clientId.length() + " characters (at most "
                        + MAX_CLIENT_ID + ")");
            }
            Duration session = sessionTimeout.isZero() ? settings.defaultSessionTimeout() : sessionTimeout;
            if (session.compareTo(settings.minSessionTimeout()) < 0 || session.compareTo(settings.maxSessionTimeout()) > 0) {
                throw new IllegalArgumentException("session timeout " + session.toMillis() + " ms is outside the "
                        + "server's bounds [" + settings.minSessionTimeout().toMillis() + ", "
                        + settings.maxSessionTimeout().toMillis() + "] ms");
            }
            for (String t : new TreeSet<>(topicNames)) {
                topic(t);
            }
            if (await(store.read(group)).members().values().stream().anyMatch(GroupMember::kafka)) {
                throw new MixedProtocolException(group, false);
            }
            GroupMember m = await(sessions.join(group, new MemberSpec(clientId.isEmpty() ? "consumer" : clientId,
                    clientAddress, List.copyOf(new TreeSet<>(topicNames)), session, reset)));
            stats.joins.increment();
            return m;
        });
    }

    /**
     * Keeps the member's session alive; fails with {@link UnknownMemberException} when it is gone. Not on the
     * coordinator's threads, and for a member hosted here not even on the store: the most frequent call (a
     * member every third of its session) only notes the time (see {@link SessionHost}).
     */
    public CompletableFuture<Void> heartbeat(String group, String memberId) {
        try {
            requireNames(group, memberId);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        return sessions.heartbeat(group, memberId).orTimeout(settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * How often the member should beat: three chances within its session (Kafka's default ratio), and within a
     * third of the host lease, so that when its host dies its beats reach another node before that lease ends.
     */
    public Duration heartbeatInterval(GroupMember m) {
        return heartbeatInterval(Duration.ofMillis(m.sessionTimeoutMs()));
    }

    /** As {@link #heartbeatInterval(GroupMember)}, for a session of this length. */
    public Duration heartbeatInterval(Duration session) {
        return Duration.ofMillis(Math.max(100, Math.min(session.toMillis(), settings.hostLeaseTtl().toMillis()) / 3));
    }

    /** Ends the member's session at once, freeing its partitions; {@link UnknownMemberException} if it was gone. */
    public CompletableFuture<Void> leave(String group, String memberId) {
        return blocking(() -> {
            requireNames(group, memberId);
            if (!await(sessions.leave(group, memberId))) {
                throw new UnknownMemberException(group, memberId);
            }
            stats.leaves.increment();
            return null;
        });
    }

    private static void requireNames(String group, String memberId) {
        GroupNames.requireGroup(group);
        if (!GroupNames.validMember(memberId)) {
            throw new IllegalArgumentException("invalid member id " + io.strata.metadata.InputText.quoted(memberId));
        }
    }

    /**
     * Streams the member's assignment to {@code sink} until the handle is closed or the member is gone. Fails
     * with {@link UnknownMemberException} when the member is not in the group.
     */
    public CompletableFuture<AutoCloseable> sync(String group, String memberId, AssignmentSink sink) {
        return blocking(() -> {
            requireNames(group, memberId);
            GroupSnapshot snap = await(store.read(group));
            if (snap.member(memberId).isEmpty()) {
                throw new UnknownMemberException(group, memberId);
            }
            GroupView view;
            synchronized (views) { // a view is closed only under this lock, and only when nobody is in it
                view = views.computeIfAbsent(group, g -> new GroupView(g, this, workers));
                view.add(memberId, sink, snap.revision());
            }
            return () -> {
                synchronized (views) {
                    if (view.remove(memberId, sink) && views.get(group) == view) {
                        views.remove(group);
                        view.close();
                    }
                }
            };
        });
    }

    /**
     * Makes sure the watch of every group runs, starting it after {@code revision} (a view's read) when it does
     * not. A watch started now also makes every other view read again: it misses what changed between their
     * reads and its start.
     */
    void watchFrom(long revision) {
        watchFrom(revision, true);
    }

    private void watchFrom(long revision, boolean reconcileOthers) {
        List<GroupView> others;
        synchronized (views) {
            if (watch != null || closed) {
                return;
            }
            watch = store.watchAll(revision, new io.strata.metadata.group.GroupListener() {
                @Override
                public void onChange(String group, long at) {
                    GroupView v;
                    synchronized (views) {
                        v = views.get(group);
                    }
                    if (v != null) {
                        v.reconcile();
                    }
                }

                @Override
                public void onMember(String group, String memberId, long lease, long revision) {
                    sessions.memberChanged(group, memberId, lease, revision);
                }

                @Override
                public void onBroken(Throwable cause) {
                    synchronized (views) {
                        watch = null;
                    }
                    org.slf4j.LoggerFactory.getLogger(GroupCoordinator.class)
                            .info("the watch of consumer groups ended ({}): reading every group again", cause.toString());
                    try {
                        workers.execute(() -> pass(true)); // reads all, watches from there, reconciles what changed
                    } catch (java.util.concurrent.RejectedExecutionException e) {
                        // stopping
                    }
                }
            });
            others = reconcileOthers ? List.copyOf(views.values()) : List.of();
        }
        others.forEach(GroupView::reconcile); // coalesced with the one running (for the view that called)
    }

    /**
     * The periodic look at every group served here, in case a watch event was missed (or a topic grew): one
     * read of every group's coordination, and a reconcile only of the groups that changed since their last
     * one. A reconcile each (two reads) would be 20,000 reads in a burst every interval at 10,000 groups.
     */
    private void tick() {
        pass(false);
    }

    /** The periodic pass; {@code rewatch}: the watch broke, so start it again from what this pass reads. */
    private void pass(boolean rewatch) {
        Map<String, GroupView> all = new HashMap<>();
        synchronized (views) {
            views.values().removeIf(v -> {
                if (v.idle()) {
                    v.close();
                    return true;
                }
                return false;
            });
            all.putAll(views);
        }
        if (all.isEmpty() && !sessions.hostsAny()) {
            return;
        }
        try {
            Map<String, GroupSnapshot> snaps = store.readAll().get(settings.timeout().toMillis() * 3, TimeUnit.MILLISECONDS);
            if (rewatch && !snaps.isEmpty()) {
                // Watched from the oldest revision read: nothing after this pass's reads is missed.
                watchFrom(snaps.values().stream().mapToLong(GroupSnapshot::revision).min().getAsLong(), false);
            }
            for (var e : all.entrySet()) {
                e.getValue().reconcileIfChanged(snaps.get(e.getKey()));
            }
            sessions.expireUnhosted(snaps);
        } catch (Exception e) {
            all.values().forEach(GroupView::reconcile); // could not tell what changed: look at each
        }
    }

    /** Where each newly owned partition starts: its committed offset within the stored range, else the policy. */
    Map<TopicPartition, AssignedPartition> starts(String group, GroupMember member, Map<TopicPartition, Long> epochs)
            throws Exception {
        Map<TopicPartition, CommittedOffset> committed = await(store.committed(group));
        Map<TopicPartition, PartitionOffsets> bounds = bounds(epochs.keySet());
        Map<TopicPartition, AssignedPartition> out = new HashMap<>();
        for (var e : epochs.entrySet()) {
            TopicPartition p = e.getKey();
            PartitionOffsets b = bounds.get(p);
            long logStart = b == null ? 0 : b.logStartOffset();
            long end = b == null ? 0 : b.nextOffset();
            CommittedOffset c = valid(committed.get(p), b);
            AssignedPartition start;
            if (c == null) {
                boolean earliest = member.offsetReset() == OffsetReset.EARLIEST;
                start = new AssignedPartition(p, e.getValue(), earliest ? logStart : end,
                        earliest ? StartReason.EARLIEST : StartReason.LATEST);
            } else if (c.offset() < logStart) {
                stats.startsBelowLogStart.increment();
                start = new AssignedPartition(p, e.getValue(), logStart, StartReason.COMMITTED_BELOW_LOG_START);
            } else {
                start = new AssignedPartition(p, e.getValue(), Math.min(c.offset(), end), StartReason.COMMITTED);
            }
            out.put(p, start);
        }
        return out;
    }

    /** A commit counts only for the topic it was made for: not for a newer topic of the same name. */
    static CommittedOffset valid(CommittedOffset c, PartitionOffsets bounds) {
        return c != null && bounds != null && c.topicId() == bounds.partition().topicId() ? c : null;
    }

    /** The stored ranges of these partitions (absent for topics or partitions that do not exist). */
    private Map<TopicPartition, PartitionOffsets> bounds(Set<TopicPartition> partitions) throws Exception {
        List<TopicPartition> known = new ArrayList<>();
        List<PartitionId> ids = new ArrayList<>();
        for (TopicPartition p : new TreeSet<>(partitions)) {
            Optional<Topic> t = await(topics.get(p.topic(), p.partition()));
            if (t.isPresent() && p.partition() < t.get().partitions()) {
                known.add(p);
                ids.add(t.get().partition(p.partition()));
            }
        }
        Map<TopicPartition, PartitionOffsets> out = new HashMap<>();
        if (!ids.isEmpty()) {
            List<PartitionOffsets> found = await(metadata.offsets(ids));
            for (int i = 0; i < known.size(); i++) {
                out.put(known.get(i), found.get(i));
            }
        }
        return out;
    }

    private Topic topic(String name) throws Exception {
        return await(topics.get(name)).orElseThrow(() -> new UnknownTopicException(name));
    }

    // ---- commits

    /**
     * One partition's offset as a member asks to commit it, under the ownership of {@code epoch} (from its
     * assignment; 0 when the member does not say, which checks only that it owns the partition now).
     */
    public record CommitRequest(TopicPartition partition, long offset, String metadata, long epoch) {
        public CommitRequest(TopicPartition partition, long offset, String metadata) {
            this(partition, offset, metadata, 0);
        }
    }

    /**
     * Commits the member's offsets and releases {@code release}, in one transaction when the store's limits
     * allow. Every offset must lie within its partition's stored range; the member must own every partition.
     */
    public CompletableFuture<Void> commit(String group, String memberId, List<CommitRequest> offsets,
                                          Set<TopicPartition> release) {
        return blocking(() -> {
            requireNames(group, memberId);
            Set<TopicPartition> seen = new TreeSet<>();
            List<OffsetCommit> commits = new ArrayList<>();
            Map<TopicPartition, PartitionOffsets> bounds = bounds(offsets.stream()
                    .map(CommitRequest::partition).collect(java.util.stream.Collectors.toSet()));
            for (CommitRequest c : offsets) {
                if (c.metadata() != null && c.metadata().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                        > MAX_METADATA_BYTES) {
                    throw new IllegalArgumentException("commit metadata of partition " + c.partition() + " is over "
                            + MAX_METADATA_BYTES + " bytes");
                }
                if (!seen.add(c.partition())) {
                    throw new IllegalArgumentException("partition " + c.partition() + " is committed twice in one call");
                }
                PartitionOffsets b = bounds.get(c.partition());
                if (b == null) {
                    Topic t = topic(c.partition().topic());
                    throw new IllegalArgumentException("partition " + c.partition().partition() + " out of range for "
                            + "topic " + t.name() + " (0.." + (t.partitions() - 1) + ")");
                }
                if (c.offset() < b.logStartOffset() || c.offset() > b.nextOffset()) {
                    if (await(store.member(group, memberId)).isEmpty()) {
                        throw new UnknownMemberException(group, memberId); // the first thing to tell a gone member
                    }
                    throw new OffsetOutOfRangeException(c.partition(), c.offset(), b.logStartOffset(), b.nextOffset());
                }
                commits.add(new OffsetCommit(c.partition(), c.offset(), c.metadata() == null ? "" : c.metadata(),
                        b.partition().topicId(), c.epoch()));
            }
            CommitOutcome outcome = await(store.commit(group, memberId, commits, release));
            if (outcome instanceof CommitOutcome.UnknownMember) {
                stats.fencedCommits.increment();
                throw new UnknownMemberException(group, memberId);
            }
            if (outcome instanceof CommitOutcome.NotOwner n) {
                stats.fencedCommits.increment();
                throw new NotOwnerException(group, memberId, n.partitions());
            }
            stats.commits.increment();
            stats.committedPartitions.add(commits.size());
            return null;
        });
    }

    /** The group's committed offsets (of one topic, when named) for the topics as they exist now. */
    public CompletableFuture<Map<TopicPartition, CommittedOffset>> committed(String group, Optional<String> topic) {
        return blocking(() -> {
            GroupNames.requireGroup(group);
            GroupSnapshot snap = await(store.read(group));
            if (!snap.exists()) {
                throw new UnknownGroupException(group);
            }
            Map<TopicPartition, CommittedOffset> all = await(store.committed(group));
            Map<TopicPartition, PartitionOffsets> bounds = bounds(all.keySet());
            Map<TopicPartition, CommittedOffset> out = new TreeMap<>();
            all.forEach((p, c) -> {
                if (topic.map(t -> t.equals(p.topic())).orElse(true) && valid(c, bounds.get(p)) != null) {
                    out.put(p, c);
                }
            });
            return out;
        });
    }

    // ---- administration

    public CompletableFuture<GroupDescription> describe(String group) {
        return blocking(() -> descriptions.describe(group));
    }

    /**
     * Every group's description, from four reads whatever the number of groups (every group's coordination,
     * every commit, the topics, the shard heads): what the lag metrics are made of.
     */
    public CompletableFuture<List<GroupDescription>> describeAll() {
        return blocking(() -> descriptions.describeAll(null));
    }

    /**
     * The same from ends the caller read a moment ago (the console's round, which reads partitions' ends spread out
     * and a few unheld shards at a time): none is read here, and a group with a partition whose end is not known is
     * left out.
     */
    public CompletableFuture<List<GroupDescription>> describeAll(Map<TopicPartition, PartitionOffsets> known) {
        return blocking(() -> descriptions.describeAll(java.util.Objects.requireNonNull(known)));
    }

    /** Every group with its state and member count. */
    public record GroupListing(String group, GroupDescription.State state, int members) {
    }

    public CompletableFuture<List<GroupListing>> list() {
        return blocking(() -> {
            List<GroupListing> out = new ArrayList<>();
            await(store.readAll()).forEach((g, snap) -> out.add(new GroupListing(g, GroupDescriptions.state(snap), snap.members().size())));
            return out;
        });
    }

    /**
     * Moves the group's committed offsets (of one topic or partition, or of every topic it committed for), kept
     * within each partition's stored range. Refused while the group has live members unless {@code force}.
     * Answers the new offsets.
     */
    public CompletableFuture<Map<TopicPartition, Long>> reset(String group, ResetSpec spec, Optional<String> topic,
                                                              OptionalInt partition, boolean force) {
        return blocking(() -> {
            GroupNames.requireGroup(group);
            if (partition.isPresent() && topic.isEmpty()) {
                throw new IllegalArgumentException("a partition is named with its topic");
            }
            GroupSnapshot snap = await(store.read(group));
            if (!snap.exists()) {
                throw new UnknownGroupException(group);
            }
            if (!snap.members().isEmpty() && !force) {
                throw new io.strata.metadata.group.GroupActiveException(group, snap.members().size());
            }
            Map<TopicPartition, CommittedOffset> committed = await(store.committed(group));
            Set<TopicPartition> targets = new TreeSet<>();
            if (topic.isPresent()) {
                Topic t = topic(topic.get());
                if (partition.isPresent()) {
                    t.partition(partition.getAsInt()); // validates the number
                    targets.add(new TopicPartition(t.name(), partition.getAsInt()));
                } else {
                    for (int p = 0; p < t.partitions(); p++) {
                        targets.add(new TopicPartition(t.name(), p));
                    }
                }
            } else {
                targets.addAll(committed.keySet());
            }
            if (targets.isEmpty()) {
                throw new IllegalArgumentException("group '" + group + "' has committed nothing: name a topic to reset");
            }
            Map<TopicPartition, PartitionOffsets> bounds = bounds(targets);
            Map<TopicPartition, Long> out = new TreeMap<>();
            List<OffsetCommit> commits = new ArrayList<>();
            for (TopicPartition p : targets) {
                PartitionOffsets b = bounds.get(p);
                if (b == null) {
                    continue; // committed for a topic that no longer exists
                }
                CommittedOffset c = valid(committed.get(p), b);
                long wanted = wanted(spec, p, b, c);
                long offset = Math.max(b.logStartOffset(), Math.min(b.nextOffset(), wanted));
                out.put(p, offset);
                commits.add(new OffsetCommit(p, offset, "", b.partition().topicId(), 0));
            }
            await(store.resetOffsets(group, commits, force));
            return out;
        });
    }

    private long wanted(ResetSpec spec, TopicPartition p, PartitionOffsets b, CommittedOffset c) throws Exception {
        if (spec instanceof ResetSpec.Earliest) {
            return b.logStartOffset();
        } else if (spec instanceof ResetSpec.Latest) {
            return b.nextOffset();
        } else if (spec instanceof ResetSpec.ToOffset o) {
            return o.offset();
        } else if (spec instanceof ResetSpec.ToTimestamp t) {
            return await(lookup.offsetForTimestamp(p.topic(), p.partition(), t.timestampMs()));
        }
        return (c == null ? b.logStartOffset() : c.offset()) + ((ResetSpec.ShiftBy) spec).delta();
    }

    /** Deletes the group and its offsets; refused while it has live members unless {@code force}. */
    public CompletableFuture<Void> delete(String group, boolean force) {
        return blocking(() -> {
            GroupNames.requireGroup(group);
            if (!await(store.delete(group, force))) {
                throw new UnknownGroupException(group);
            }
            return null;
        });
    }

    @Override
    public void close() {
        timer.shutdownNow();
        sessions.close();
        AutoCloseable w;
        synchronized (views) {
            closed = true;
            w = watch;
            watch = null;
            views.values().forEach(GroupView::close);
            views.clear();
        }
        if (w != null) {
            try {
                w.close();
            } catch (Exception e) {
                // closing anyway
            }
        }
        workers.shutdownNow();
    }
}
