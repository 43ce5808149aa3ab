package io.strata.kafka.group;

import io.strata.group.AssignedPartition;
import io.strata.group.AssignmentSink;
import io.strata.group.GroupCoordinator;
import io.strata.group.KafkaMembership;
import io.strata.group.MemberAssignment;
import io.strata.group.MixedProtocolException;
import io.strata.group.TooManyMembersException;
import io.strata.group.UnknownMemberException;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.cluster.TopicIds;
import io.strata.metadata.TopicCache;
import io.strata.metadata.group.GroupNames;
import io.strata.metadata.group.OffsetReset;
import io.strata.metadata.group.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator of Kafka's consumer group protocol (KIP-848: ConsumerGroupHeartbeat) for the groups this node
 * coordinates. It is Strata's own protocol seen through Kafka's heartbeat rather than a second one beside it: a
 * member is a Strata member (the group coordinator assigns partitions with its sticky assignor, each member
 * holds the partition leases of what it owns, sessions as every member's), so Kafka consumers of this protocol
 * and Strata's own clients share one group, and commits are fenced by partition ownership.
 *
 * <p>What the heartbeat adds is the conversation Kafka's client expects. Strata tells a member what it owns and
 * what of it to give up ({@link MemberAssignment}); the client is told the first without the second, under a
 * member epoch that rises with every change, and a partition it was told to give up is released once its
 * heartbeat no longer reports owning it (it committed first). A member that keeps a revoked partition past its
 * rebalance timeout is fenced, as Kafka's coordinator fences it. Nothing here needs to survive this node: a
 * member that turns up at another coordinator is adopted there from the store, at the epoch its client says.
 *
 * <p>Threads: requests arrive on the listener's threads, assignments on the coordinator's; a member's state is
 * changed under its monitor. Thread-safe.
 */
public final class ConsumerGroups implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerGroups.class);
    /** How soon a member whose assignment is still moving beats again: what it waits for reaches it this soon. */
    static final int UNSETTLED_INTERVAL_MS = 500;
    /** The rebalance timeout of a client that names none (Kafka's max.poll.interval.ms default). */
    private static final int DEFAULT_REBALANCE_TIMEOUT_MS = 300_000;
    /** The one server-side assignor name accepted: Strata's sticky, balanced assignor is what Kafka's means by it. */
    static final String ASSIGNOR = "uniform";

    private final GroupCoordinator coordinator;
    private final KafkaMembership membership;
    private final TopicCache topics;
    private final TopicIds topicIds;
    private final Map<Key, Member> members = new ConcurrentHashMap<>();

    private record Key(String group, String memberId) {
    }

    /** One member as the door talks to it: its assignment stream and what its client was told and said. */
    private final class Member implements AssignmentSink {
        final Key key;
        final List<String> subscription;
        final int rebalanceTimeoutMs;
        int epoch;
        MemberAssignment latest;
        /** What the client was last told it owns; null until it was told anything. */
        Set<TopicPartition> sent;
        /**
         * What the client may hold: what it last reported owning and everything it was told of since (it may be
         * taking those on still: a heartbeat that reports nothing means "unchanged", not "done"); null when
         * unknown (a member this node took over before its client reported anything here).
         */
        Set<TopicPartition> mayHold;
        final Set<TopicPartition> releasing = new HashSet<>();
        /** Since when (nanos) the client reports partitions it was told to give up; 0 while it reports none. */
        long holdingRevokedSince;
        /** When (nanos) its client was last heard here. */
        long heardNanos = System.nanoTime();
        AutoCloseable stream;
        boolean ended;

        Member(Key key, List<String> subscription, int rebalanceTimeoutMs, int epoch, Set<TopicPartition> mayHold) {
            this.key = key;
            this.subscription = subscription;
            this.rebalanceTimeoutMs = rebalanceTimeoutMs;
            this.epoch = epoch;
            this.mayHold = mayHold;
        }

        @Override
        public synchronized void onAssignment(MemberAssignment assignment) {
            latest = assignment;
        }

        @Override
        public void onEnd(Throwable cause) {
            close();
            LOG.debug("group {}: the assignment stream of {} ended: {}", key.group, key.memberId, cause.toString());
        }

        void close() {
            AutoCloseable s;
            synchronized (this) {
                ended = true;
                s = stream;
                stream = null;
            }
            members.remove(key, this);
            if (s != null) {
                try {
                    s.close();
                } catch (Exception e) {
                    LOG.debug("closing the assignment stream of {}", key.memberId, e);
                }
            }
        }
    }

    private final java.util.concurrent.ScheduledFuture<?> sweeper;

    public ConsumerGroups(GroupCoordinator coordinator, TopicCache topics, TopicIds topicIds,
                          java.util.concurrent.ScheduledExecutorService timer) {
        this.coordinator = coordinator;
        this.membership = new KafkaMembership(coordinator);
        this.topics = topics;
        this.topicIds = topicIds;
        this.sweeper = timer.scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
    }

    // ---- ConsumerGroupHeartbeat

    public CompletableFuture<ConsumerGroupHeartbeatResponseData> heartbeat(ConsumerGroupHeartbeatRequestData r,
                                                                           String clientId, String clientHost) {
        if (!GroupNames.validGroup(r.groupId())) {
            return done(error(Errors.INVALID_GROUP_ID, "invalid group id " + io.strata.metadata.InputText.quoted(r.groupId())));
        }
        String invalid = invalid(r);
        if (invalid != null) {
            return done(error(Errors.INVALID_REQUEST, invalid));
        }
        if (r.serverAssignor() != null && !r.serverAssignor().equals(ASSIGNOR)) {
            return done(error(Errors.UNSUPPORTED_ASSIGNOR, "Strata assigns partitions with its own sticky, balanced "
                    + "assignor ('" + ASSIGNOR + "'); leave group.remote.assignor unset"));
        }
        CompletableFuture<ConsumerGroupHeartbeatResponseData> answer;
        try {
            answer = switch (r.memberEpoch()) {
                case -1, -2 -> leave(r);
                case 0 -> join(r, clientId, clientHost, 1);
                default -> beat(r, clientId, clientHost);
            };
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        return answer.exceptionally(e -> failure(r, e));
    }

    private static String invalid(ConsumerGroupHeartbeatRequestData r) {
        if (r.subscribedTopicRegex() != null && !r.subscribedTopicRegex().isEmpty()) {
            return "regular-expression subscriptions are not served by Strata's consumer protocol yet: subscribe to "
                    + "topic names, or use group.protocol=classic (its clients match patterns themselves)";
        }
        if (r.memberEpoch() < -2) {
            return "member epoch " + r.memberEpoch() + " is none of -2, -1, 0 or a positive epoch";
        }
        boolean hasId = r.memberId() != null && !r.memberId().isEmpty();
        if (r.memberEpoch() != 0 && !hasId) {
            return "MemberId can't be empty.";
        }
        if (hasId && !GroupNames.validMember(r.memberId())) {
            return "invalid member id " + io.strata.metadata.InputText.quoted(r.memberId()) + ": 1 to 249 of A-Z a-z 0-9 . _ -";
        }
        if (r.memberEpoch() == 0 && (r.subscribedTopicNames() == null || r.subscribedTopicNames().isEmpty())) {
            return "a joining member names the topics it subscribes to";
        }
        return null;
    }

    private CompletableFuture<ConsumerGroupHeartbeatResponseData> leave(ConsumerGroupHeartbeatRequestData r) {
        Member m = members.remove(new Key(r.groupId(), r.memberId()));
        if (m != null) {
            m.close();
        }
        // Leaving twice, or after the session ended, is still a leave: the client is out of the group either way.
        return coordinator.leave(r.groupId(), r.memberId()).handle((v, e) -> new ConsumerGroupHeartbeatResponseData()
                .setErrorCode(Errors.NONE.code()).setMemberId(r.memberId()).setMemberEpoch(r.memberEpoch()));
    }

    /** A member joining (epoch 0), or joining again under its id at {@code epoch} (its subscription changed). */
    private CompletableFuture<ConsumerGroupHeartbeatResponseData> join(ConsumerGroupHeartbeatRequestData r,
                                                                       String clientId, String clientHost, int epoch) {
        String id = r.memberId() == null ? "" : r.memberId();
        if (!id.isEmpty()) {
            Member old = members.remove(new Key(r.groupId(), id));
            if (old != null) {
                old.close();
            }
        }
        List<String> subscription = List.copyOf(new TreeSet<>(r.subscribedTopicNames()));
        int rebalanceTimeout = r.rebalanceTimeoutMs() > 0 ? r.rebalanceTimeoutMs() : DEFAULT_REBALANCE_TIMEOUT_MS;
        return membership.joinConsumer(r.groupId(), id, clientId, clientHost, subscription, OffsetReset.EARLIEST)
                .thenCompose(joined -> open(new Key(r.groupId(), joined.memberId()), subscription, rebalanceTimeout,
                        epoch, new HashSet<>()))
                .thenCompose(m -> answer(m, r, Set.of(), true));
    }

    /** Starts serving a member: its state here and its assignment stream. */
    private CompletableFuture<Member> open(Key key, List<String> subscription, int rebalanceTimeoutMs, int epoch,
                                           Set<TopicPartition> mayHold) {
        Member m = new Member(key, subscription, rebalanceTimeoutMs, epoch, mayHold);
        Member replaced = members.put(key, m);
        if (replaced != null) {
            replaced.close();
        }
        return coordinator.sync(key.group, key.memberId, m).handle((stream, e) -> {
            if (e != null) {
                members.remove(key, m);
                throw new java.util.concurrent.CompletionException(KafkaErrors.unwrap(e));
            }
            boolean closeNow;
            synchronized (m) {
                closeNow = m.ended;
                if (!closeNow) {
                    m.stream = stream;
                }
            }
            if (closeNow) {
                try {
                    stream.close();
                } catch (Exception ignored) {
                    // the member ended while its stream opened: nothing more to stop
                }
            }
            return m;
        });
    }

    private CompletableFuture<ConsumerGroupHeartbeatResponseData> beat(ConsumerGroupHeartbeatRequestData r,
                                                                       String clientId, String clientHost) {
        Key key = new Key(r.groupId(), r.memberId());
        Member known = members.get(key);
        String fenced = null;
        if (known != null) {
            synchronized (known) {
                long now = System.nanoTime();
                if (known.ended) {
                    known = null;
                } else if (r.memberEpoch() > known.epoch) {
                    if (now - known.heardNanos < 2 * normalIntervalNanos()) {
                        fenced = "epoch " + r.memberEpoch() + " is ahead of this coordinator's " + known.epoch;
                    } else {
                        // Not heard here for a while: its coordinator was another node meanwhile, whose epochs count.
                        known.epoch = r.memberEpoch();
                        known.sent = null;
                        known.mayHold = null;
                    }
                }
                if (known != null) {
                    known.heardNanos = now;
                }
            }
        }
        if (fenced != null) {
            return fence(known, fenced);
        }
        Member served = known;
        CompletableFuture<Member> member = served != null
                ? coordinator.heartbeat(r.groupId(), r.memberId()).thenApply(v -> served)
                : adopt(key, r.memberEpoch(), r.rebalanceTimeoutMs());
        return member.thenCompose(m -> reported(r).thenCompose(reported -> {
            if (r.subscribedTopicNames() != null
                    && !List.copyOf(new TreeSet<>(r.subscribedTopicNames())).equals(m.subscription)) {
                // A Strata member's subscription is fixed. Its partitions are not freed behind its client's back:
                // fenced, the client gives them up and joins again with its new subscription.
                return fence(m, "its subscription changed to " + r.subscribedTopicNames() + "; it joins again");
            }
            boolean unknownHoldings;
            synchronized (m) {
                unknownHoldings = reported == null && m.mayHold == null;
            }
            if (unknownHoldings) {
                // What it holds is needed before anything it was told to give up can go to another member; a
                // retriable error makes Kafka's client send its whole state with its next heartbeat.
                return done(error(Errors.COORDINATOR_LOAD_IN_PROGRESS, "this coordinator took the member over and "
                        + "needs the partitions it owns"));
            }
            return answer(m, r, reported, false);
        }));
    }

    /**
     * A member this node did not serve (its coordinator moved here, or this node restarted): its session moves
     * here with its partition leases (a heartbeat adopts it), at the epoch its client says. What the client holds
     * is unknown until it reports it. {@link UnknownMemberException} when it is no member of this protocol.
     */
    private CompletableFuture<Member> adopt(Key key, int epoch, int rebalanceTimeoutMs) {
        return membership.member(key.group, key.memberId).thenCompose(stored -> {
            if (stored.isEmpty() || stored.get().kafka()) {
                throw new UnknownMemberException(key.group, key.memberId);
            }
            return coordinator.heartbeat(key.group, key.memberId).thenCompose(v -> {
                Member m = members.get(key);
                return m != null ? CompletableFuture.completedFuture(m) : open(key, stored.get().topics(),
                        rebalanceTimeoutMs > 0 ? rebalanceTimeoutMs : DEFAULT_REBALANCE_TIMEOUT_MS, epoch, null);
            });
        });
    }

    /** The partitions the heartbeat says the member owns, by name; null when it does not say (unchanged). */
    private CompletableFuture<Set<TopicPartition>> reported(ConsumerGroupHeartbeatRequestData r) {
        if (r.topicPartitions() == null) {
            return CompletableFuture.completedFuture(null);
        }
        Set<TopicPartition> out = ConcurrentHashMap.newKeySet();
        List<CompletableFuture<Void>> lookups = new ArrayList<>();
        for (ConsumerGroupHeartbeatRequestData.TopicPartitions t : r.topicPartitions()) {
            lookups.add(topicIds.nameOf(t.topicId()).thenAccept(name -> {
                if (name != null) { // a topic deleted meanwhile is owned by nobody
                    t.partitions().forEach(p -> out.add(new TopicPartition(name, p)));
                }
            }));
        }
        return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new)).thenApply(v -> out);
    }

    /**
     * The heartbeat's answer: the member's assignment when it changed (under the next epoch) or the client is
     * behind; releases what the client let go of; fences a member that holds revoked partitions too long.
     */
    private CompletableFuture<ConsumerGroupHeartbeatResponseData> answer(Member m, ConsumerGroupHeartbeatRequestData r,
                                                                         Set<TopicPartition> reported, boolean joined) {
        Set<TopicPartition> target = new TreeSet<>();
        Set<TopicPartition> release = new TreeSet<>();
        boolean send;
        boolean unsettled;
        int epoch;
        String fenced = null;
        synchronized (m) {
            if (m.ended) {
                throw new UnknownMemberException(m.key.group, m.key.memberId);
            }
            if (reported != null) {
                m.mayHold = new HashSet<>(reported); // a completed reconciliation's holdings
            }
            MemberAssignment a = m.latest;
            Set<TopicPartition> revoking = a == null ? Set.of() : new HashSet<>(a.revoking());
            if (a != null) {
                for (AssignedPartition p : a.owned()) {
                    if (!revoking.contains(p.partition())) {
                        target.add(p.partition());
                    }
                }
            }
            if (m.sent != null && m.mayHold != null) {
                for (TopicPartition p : revoking) {
                    if (!m.sent.contains(p) && !m.mayHold.contains(p) && m.releasing.add(p)) {
                        release.add(p); // told to give it up, and said it did
                    }
                }
            }
            boolean behind = r.memberEpoch() > 0 && r.memberEpoch() < m.epoch; // it missed an answer
            // A member taken over here is told nothing until the coordinator has told this node what it owns:
            // an empty assignment would make its client give up every partition.
            boolean known = a != null || joined;
            boolean changed = known && (m.sent == null || !target.equals(m.sent));
            if (changed) {
                if (m.sent != null) {
                    m.epoch++;
                }
                m.sent = Set.copyOf(target);
            }
            send = changed || (behind && m.sent != null) || joined;
            if (send && m.mayHold != null) {
                m.mayHold.addAll(target);
            }
            epoch = m.epoch;
            long now = System.nanoTime();
            boolean holdingRevoked = m.mayHold != null && m.sent != null
                    && m.mayHold.stream().anyMatch(p -> !m.sent.contains(p));
            if (!holdingRevoked) {
                m.holdingRevokedSince = 0;
            } else if (m.holdingRevokedSince == 0) {
                m.holdingRevokedSince = now;
            } else if (now - m.holdingRevokedSince > TimeUnit.MILLISECONDS.toNanos(m.rebalanceTimeoutMs)) {
                fenced = "it kept partitions it was told to give up past its rebalance timeout of "
                        + m.rebalanceTimeoutMs + " ms";
            }
            unsettled = a == null || a.waiting() > 0 || !revoking.isEmpty() || holdingRevoked
                    || m.mayHold == null || !m.mayHold.equals(m.sent);
        }
        if (fenced != null) {
            return fence(m, fenced);
        }
        if (!release.isEmpty()) {
            coordinator.commit(m.key.group, m.key.memberId, List.of(), release).whenComplete((v, e) -> {
                synchronized (m) {
                    m.releasing.removeAll(release);
                }
                if (e != null) {
                    LOG.info("group {}: could not release {} of member {} ({}); its next heartbeat tries again",
                            m.key.group, release, m.key.memberId, KafkaErrors.describe(e));
                }
            });
        }
        int normal = (int) TimeUnit.NANOSECONDS.toMillis(normalIntervalNanos());
        ConsumerGroupHeartbeatResponseData response = new ConsumerGroupHeartbeatResponseData()
                .setErrorCode(Errors.NONE.code()).setMemberId(m.key.memberId).setMemberEpoch(epoch)
                .setHeartbeatIntervalMs(unsettled ? Math.min(normal, UNSETTLED_INTERVAL_MS) : normal);
        if (!send) {
            return done(response);
        }
        return assignment(target).thenApply(response::setAssignment);
    }

    /** How often a settled member beats: as every Strata member of its session does. */
    private long normalIntervalNanos() {
        return coordinator.heartbeatInterval(membership.consumerSessionTimeout()).toNanos();
    }

    /**
     * Ends the door's state of members not heard here for a session: their session ended, or their client
     * talks to another coordinator now (the store session went with it). Their streams stop.
     */
    private void sweep() {
        long now = System.nanoTime();
        long session = membership.consumerSessionTimeout().toNanos();
        for (Member m : new ArrayList<>(members.values())) {
            boolean silent;
            synchronized (m) {
                silent = now - m.heardNanos > session;
            }
            if (silent) {
                m.close();
            }
        }
    }

    /** The partitions as Kafka names them: by topic id (a topic deleted meanwhile is left out). */
    private CompletableFuture<ConsumerGroupHeartbeatResponseData.Assignment> assignment(Set<TopicPartition> owned) {
        Map<String, List<Integer>> byTopic = new TreeMap<>();
        owned.forEach(p -> byTopic.computeIfAbsent(p.topic(), t -> new ArrayList<>()).add(p.partition()));
        List<CompletableFuture<Optional<ConsumerGroupHeartbeatResponseData.TopicPartitions>>> parts = new ArrayList<>();
        byTopic.forEach((name, partitions) -> parts.add(topics.get(name).thenApply(topic -> topic.map(t ->
                new ConsumerGroupHeartbeatResponseData.TopicPartitions().setTopicId(TopicIds.uuidOf(t))
                        .setPartitions(partitions)))));
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<ConsumerGroupHeartbeatResponseData.TopicPartitions> out = new ArrayList<>();
            parts.forEach(p -> p.join().ifPresent(out::add));
            return new ConsumerGroupHeartbeatResponseData.Assignment().setTopicPartitions(out);
        });
    }

    /** Ends the member (its partitions freed) and tells its client, which joins again at epoch 0. */
    private CompletableFuture<ConsumerGroupHeartbeatResponseData> fence(Member m, String why) {
        LOG.info("group {}: member {} is fenced: {}", m.key.group, m.key.memberId, why);
        m.close();
        return coordinator.leave(m.key.group, m.key.memberId).handle((v, e) ->
                error(Errors.FENCED_MEMBER_EPOCH, "fenced: " + why));
    }

    private ConsumerGroupHeartbeatResponseData failure(ConsumerGroupHeartbeatRequestData r, Throwable e) {
        Throwable t = KafkaErrors.unwrap(e);
        if (t instanceof UnknownMemberException) {
            // Its state here (if any) ends with its assignment stream, which the coordinator ends for a gone member.
            return error(Errors.UNKNOWN_MEMBER_ID, t.getMessage());
        }
        if (t instanceof MixedProtocolException) {
            return error(Errors.GROUP_ID_NOT_FOUND, t.getMessage()); // Kafka's answer: not a consumer group
        }
        if (t instanceof TooManyMembersException) {
            // A node's limit, not the group's: a member moving here is asked to try again (another node may
            // coordinate by then); a new member is told, as Kafka tells a full group.
            return error(r.memberEpoch() > 0 ? Errors.COORDINATOR_NOT_AVAILABLE : Errors.GROUP_MAX_SIZE_REACHED,
                    t.getMessage());
        }
        if (t instanceof IllegalArgumentException) {
            return error(Errors.INVALID_REQUEST, t.getMessage());
        }
        if (!(t instanceof io.strata.metadata.MetadataException || t instanceof java.util.concurrent.TimeoutException)) {
            LOG.warn("group {}: heartbeat of {} failed", r.groupId(), r.memberId(), t);
        }
        return error(Errors.COORDINATOR_NOT_AVAILABLE, KafkaErrors.describe(t)); // retried by the client
    }

    private static ConsumerGroupHeartbeatResponseData error(Errors error, String message) {
        return new ConsumerGroupHeartbeatResponseData().setErrorCode(error.code()).setErrorMessage(message);
    }

    // ---- offsets

    /** Whether this node serves the member: its offset commits are this class's. */
    boolean serves(String group, String memberId) {
        return memberId != null && members.containsKey(new Key(group, memberId));
    }

    /**
     * Commits offsets of a member this node serves, fenced by partition ownership: a partition the member does
     * not hold is refused ({@code STALE_MEMBER_EPOCH} while its client is behind this coordinator's epoch, so it
     * tries again once it caught up; else {@code UNKNOWN_MEMBER_ID}, which Kafka's client reports as a failed
     * commit). An epoch ahead of this coordinator's is {@code FENCED_MEMBER_EPOCH}.
     */
    CompletableFuture<Map<TopicPartition, Errors>> commit(String group, String memberId, int memberEpoch,
                                                          List<GroupCoordinator.CommitRequest> offsets) {
        Member m = members.get(new Key(group, memberId));
        if (m == null) {
            return done(GroupCommits.all(offsets, Errors.UNKNOWN_MEMBER_ID));
        }
        List<GroupCoordinator.CommitRequest> fenced = new ArrayList<>();
        Errors notOwned;
        synchronized (m) {
            if (memberEpoch > m.epoch) {
                return done(GroupCommits.all(offsets, Errors.FENCED_MEMBER_EPOCH));
            }
            notOwned = memberEpoch >= 0 && memberEpoch < m.epoch ? Errors.STALE_MEMBER_EPOCH : Errors.UNKNOWN_MEMBER_ID;
            Map<TopicPartition, Long> leases = new HashMap<>();
            if (m.latest != null) {
                m.latest.owned().forEach(p -> leases.put(p.partition(), p.epoch()));
            }
            for (GroupCoordinator.CommitRequest o : offsets) { // under the ownership the client was told of
                fenced.add(new GroupCoordinator.CommitRequest(o.partition(), o.offset(), o.metadata(),
                        leases.getOrDefault(o.partition(), 0L)));
            }
        }
        return GroupCommits.commit(coordinator, group, memberId, fenced, notOwned);
    }

    /**
     * Commits of a member this node does not serve (yet): its coordinator moved here and its commit came before
     * its heartbeat. When the store has it as a member of this protocol, it is taken over here and its offsets
     * committed; empty when it is none (a classic member's commits are {@link ClassicGroups}').
     */
    CompletableFuture<Optional<Map<TopicPartition, Errors>>> commitIfMember(
            String group, String memberId, int memberEpoch, List<GroupCoordinator.CommitRequest> offsets) {
        if (memberId == null || !GroupNames.validMember(memberId) || memberEpoch <= 0) {
            return done(Optional.empty());
        }
        return adopt(new Key(group, memberId), memberEpoch, 0).handle((m, e) -> {
            if (e == null) {
                return commit(group, memberId, memberEpoch, offsets).thenApply(Optional::of);
            }
            if (KafkaErrors.unwrap(e) instanceof UnknownMemberException) {
                return done(Optional.<Map<TopicPartition, Errors>>empty());
            }
            return done(Optional.of(GroupCommits.all(offsets, Errors.COORDINATOR_NOT_AVAILABLE)));
        }).thenCompose(f -> f);
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    @Override
    public void close() {
        sweeper.cancel(false);
        new ArrayList<>(members.values()).forEach(Member::close);
    }
}
