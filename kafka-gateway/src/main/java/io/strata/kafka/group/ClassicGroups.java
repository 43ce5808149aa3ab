package io.strata.kafka.group;

import io.strata.group.GroupCoordinator;
import io.strata.group.KafkaMembership;
import io.strata.group.MixedProtocolException;
import io.strata.group.NotOwnerException;
import io.strata.group.UnknownMemberException;
import io.strata.kafka.KafkaErrors;
import io.strata.metadata.group.TopicPartition;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator of Kafka's classic group protocol for the groups this node coordinates (FindCoordinator sends a
 * group's members to one node: {@link io.strata.kafka.cluster.Brokers#coordinator}). It runs the protocol as
 * Kafka's broker does (the join barrier, a generation per rebalance, the leader's assignment handed out by
 * SyncGroup, heartbeats that tell of a rebalance, session and rebalance timeouts) and keeps what it decides in
 * the store through {@link KafkaMembership}: members are the group's members, the leader's assignment its target,
 * each member holds the partition leases of its assignment, so commits are fenced as any Strata member's.
 *
 * <p>Threads: requests arrive on the listener's threads, the store answers on the group coordinator's; every
 * group's state is changed under its monitor, and futures are completed after it is released. A sweep on the
 * node's timer ends silent members and overdue join phases, and keeps alive the store sessions of members that
 * wait in a join or a sync (they send no heartbeats meanwhile). Thread-safe.
 */
public final class ClassicGroups implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClassicGroups.class);
    private static final byte[] EMPTY = new byte[0];

    private final GroupCoordinator coordinator;
    private final KafkaMembership membership;
    private final Map<String, ClassicGroup> groups = new ConcurrentHashMap<>();
    private final ScheduledFuture<?> sweeper;

    public ClassicGroups(GroupCoordinator coordinator, ScheduledExecutorService timer) {
        this.coordinator = coordinator;
        this.membership = new KafkaMembership(coordinator);
        this.sweeper = timer.scheduleWithFixedDelay(this::sweep, 250, 250, TimeUnit.MILLISECONDS);
    }

    GroupCoordinator coordinator() {
        return coordinator;
    }

    KafkaMembership membership() {
        return membership;
    }

    /** The group as held here, or null. */
    ClassicGroup group(String id) {
        return groups.get(id);
    }

    // ---- JoinGroup

    public CompletableFuture<JoinGroupResponseData> join(JoinGroupRequestData r, short version, String clientId,
                                                         String clientHost) {
        if (r.protocolType() == null || r.protocolType().isEmpty() || r.protocols().isEmpty()) {
            return done(ClassicMessages.joinError(Errors.INCONSISTENT_GROUP_PROTOCOL, r.memberId()));
        }
        LinkedHashMap<String, byte[]> protocols = new LinkedHashMap<>();
        r.protocols().forEach(p -> protocols.putIfAbsent(p.name(), p.metadata()));
        ClassicGroup g = groups.get(r.groupId());
        if (g != null) {
            synchronized (g) {
                if (!g.supports(r.protocolType(), protocols.keySet())) {
                    return done(ClassicMessages.joinError(Errors.INCONSISTENT_GROUP_PROTOCOL, r.memberId()));
                }
            }
        }
        if (r.memberId() == null || r.memberId().isEmpty()) {
            // A new member: a member of the group in the store first (its id is the store's), then the protocol.
            return membership.join(r.groupId(), clientId, clientHost, ClassicMessages.topicsOf(r.protocolType(), protocols),
                    Duration.ofMillis(r.sessionTimeoutMs())).handle((m, e) -> {
                if (e != null) {
                    Throwable t = KafkaErrors.unwrap(e);
                    Errors error = t instanceof MixedProtocolException ? Errors.INCONSISTENT_GROUP_PROTOCOL
                            : t instanceof IllegalArgumentException ? Errors.INVALID_SESSION_TIMEOUT
                            : Errors.COORDINATOR_NOT_AVAILABLE;
                    return done(ClassicMessages.joinError(error, ""));
                }
                if (version >= 4) {
                    ClassicGroup live = held(r.groupId());
                    synchronized (live) {
                        live.pending.put(m.memberId(), System.nanoTime()
                                + TimeUnit.MILLISECONDS.toNanos(r.sessionTimeoutMs()));
                    }
                    return done(ClassicMessages.joinError(Errors.MEMBER_ID_REQUIRED, m.memberId()));
                }
                return joinKnown(r, m.memberId(), clientId, clientHost, protocols);
            }).thenCompose(f -> f);
        }
        boolean known = false;
        if (g != null) {
            synchronized (g) {
                known = g.members.containsKey(r.memberId()) || g.pending.containsKey(r.memberId());
            }
        }
        if (known) {
            return joinKnown(r, r.memberId(), clientId, clientHost, protocols);
        }
        if (g != null) {
            synchronized (g) {
                LOG.debug("group {}: join of unknown member {}; members {}, pending {}, state {}", g.id, r.memberId(),
                        g.members.keySet(), g.pending.keySet(), g.state);
            }
        } else {
            LOG.debug("group {}: join of member {} of a group not held here", r.groupId(), r.memberId());
        }
        // Not known here: a member of this group whose coordinator was another node. If its session is still in
        // the store, a heartbeat moves the session here (with its partition leases) and it rejoins as itself.
        return coordinator.heartbeat(r.groupId(), r.memberId()).handle((v, e) -> e == null
                ? joinKnown(r, r.memberId(), clientId, clientHost, protocols)
                : done(ClassicMessages.joinError(Errors.UNKNOWN_MEMBER_ID, r.memberId()))).thenCompose(f -> f); // no such member
    }

    /**
     * The group as held here, created when absent, and locked by the caller right after: the sweep drops only
     * an empty group, under its monitor, and a caller that finds the group it locked dropped takes it again.
     */
    private ClassicGroup held(String id) {
        return groups.computeIfAbsent(id, ClassicGroup::new);
    }

    private CompletableFuture<JoinGroupResponseData> joinKnown(JoinGroupRequestData r, String memberId,
                                                               String clientId, String clientHost,
                                                               LinkedHashMap<String, byte[]> protocols) {
        CompletableFuture<JoinGroupResponseData> answer = new CompletableFuture<>();
        List<Runnable> after = new ArrayList<>();
        ClassicGroup g = held(r.groupId());
        synchronized (g) {
            if (groups.get(g.id) != g) {
                return joinKnown(r, memberId, clientId, clientHost, protocols); // dropped meanwhile: take it again
            }
            if (!g.supports(r.protocolType(), protocols.keySet())) {
                return done(ClassicMessages.joinError(Errors.INCONSISTENT_GROUP_PROTOCOL, memberId));
            }
            ClassicGroup.Member m = g.members.get(memberId);
            if (m == null) {
                m = new ClassicGroup.Member(memberId, clientId, clientHost);
                g.members.put(memberId, m);
                g.pending.remove(memberId);
            }
            if (m.awaitingJoin != null) {
                // A retried join replaces the one waiting: that one is answered as superseded.
                CompletableFuture<JoinGroupResponseData> old = m.awaitingJoin;
                LOG.debug("group {}: a join of {} replaces the one waiting", g.id, memberId);
                after.add(() -> old.complete(ClassicMessages.joinError(Errors.REBALANCE_IN_PROGRESS, memberId)));
            }
            m.sessionTimeoutMs = r.sessionTimeoutMs();
            m.rebalanceTimeoutMs = r.rebalanceTimeoutMs() > 0 ? r.rebalanceTimeoutMs() : r.sessionTimeoutMs();
            m.protocols = protocols;
            m.heardNanos = System.nanoTime();
            m.awaitingJoin = answer;
            if (g.protocolType == null) {
                g.protocolType = r.protocolType();
            }
            if (g.state != ClassicGroup.State.PREPARING_REBALANCE) {
                prepareRebalance(g, after);
            }
            if (g.allJoined()) {
                completeJoin(g, after);
            }
        }
        after.forEach(Runnable::run);
        return answer;
    }

    /** Starts a rebalance: everyone must join again before the longest rebalance timeout runs out. */
    private void prepareRebalance(ClassicGroup g, List<Runnable> after) {
        for (ClassicGroup.Member m : g.members.values()) {
            if (m.awaitingSync != null) {
                CompletableFuture<SyncGroupResponseData> sync = m.awaitingSync;
                m.awaitingSync = null;
                after.add(() -> sync.complete(ClassicMessages.syncError(Errors.REBALANCE_IN_PROGRESS)));
            }
        }
        g.state = ClassicGroup.State.PREPARING_REBALANCE;
        g.joinDeadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(1, g.rebalanceTimeoutMs()));
    }

    /** Ends the join phase: members that did not rejoin leave; the rest get the new generation. */
    private void completeJoin(ClassicGroup g, List<Runnable> after) {
        List<String> gone = new ArrayList<>();
        g.members.values().removeIf(m -> {
            if (m.awaitingJoin == null) {
                gone.add(m.id);
                return true;
            }
            return false;
        });
        gone.forEach(id -> after.add(() -> leaveStore(g.id, id)));
        if (!gone.isEmpty()) {
            LOG.debug("group {}: {} did not join generation {} in time", g.id, gone, g.generation + 1);
        }
        g.joinDeadlineNanos = 0;
        g.generation++;
        if (g.members.isEmpty()) {
            g.state = ClassicGroup.State.EMPTY;
            g.protocolName = null;
            g.leaderId = null;
            g.protocolType = null;
            return;
        }
        g.protocolName = g.selectProtocol();
        if (g.leaderId == null || !g.members.containsKey(g.leaderId)) {
            g.leaderId = g.members.keySet().iterator().next();
        }
        g.state = ClassicGroup.State.COMPLETING_REBALANCE;
        List<JoinGroupResponseData.JoinGroupResponseMember> all = new ArrayList<>();
        for (ClassicGroup.Member m : g.members.values()) {
            all.add(new JoinGroupResponseData.JoinGroupResponseMember().setMemberId(m.id)
                    .setMetadata(m.protocols.get(g.protocolName)));
        }
        for (ClassicGroup.Member m : g.members.values()) {
            JoinGroupResponseData response = new JoinGroupResponseData().setErrorCode(Errors.NONE.code())
                    .setGenerationId(g.generation).setProtocolType(g.protocolType).setProtocolName(g.protocolName)
                    .setLeader(g.leaderId).setMemberId(m.id)
                    .setMembers(m.id.equals(g.leaderId) ? all : List.of());
            CompletableFuture<JoinGroupResponseData> answer = m.awaitingJoin;
            m.awaitingJoin = null;
            m.heardNanos = System.nanoTime();
            after.add(() -> answer.complete(response));
        }
    }

    // ---- SyncGroup

    public CompletableFuture<SyncGroupResponseData> sync(SyncGroupRequestData r) {
        ClassicGroup g = groups.get(r.groupId());
        if (g == null) {
            return unknownHere(r.groupId(), r.memberId()).thenApply(ClassicMessages::syncError);
        }
        CompletableFuture<SyncGroupResponseData> answer = new CompletableFuture<>();
        Map<String, Set<TopicPartition>> decided = null;
        CompletableFuture<SyncGroupResponseData> superseded = null;
        int generation;
        synchronized (g) {
            ClassicGroup.Member m = g.members.get(r.memberId());
            if (m == null) {
                return unknownHere(r.groupId(), r.memberId()).thenApply(ClassicMessages::syncError);
            }
            if (r.generationId() != g.generation) {
                return done(ClassicMessages.syncError(Errors.ILLEGAL_GENERATION));
            }
            if ((r.protocolType() != null && !r.protocolType().equals(g.protocolType))
                    || (r.protocolName() != null && !r.protocolName().equals(g.protocolName))) {
                return done(ClassicMessages.syncError(Errors.INCONSISTENT_GROUP_PROTOCOL));
            }
            m.heardNanos = System.nanoTime();
            switch (g.state) {
                case PREPARING_REBALANCE, EMPTY:
                    return done(ClassicMessages.syncError(Errors.REBALANCE_IN_PROGRESS));
                case STABLE:
                    return done(ClassicMessages.syncOk(g, m.assignment));
                default:
                    break;
            }
            superseded = m.awaitingSync;
            m.awaitingSync = answer;
            generation = g.generation;
            if (r.memberId().equals(g.leaderId) && g.assigning != generation) {
                Map<String, byte[]> given = new HashMap<>();
                r.assignments().forEach(a -> given.put(a.memberId(), a.assignment()));
                decided = new LinkedHashMap<>();
                for (ClassicGroup.Member member : g.members.values()) {
                    member.assignment = given.getOrDefault(member.id, EMPTY);
                    decided.put(member.id, ClassicMessages.partitionsOf(g.protocolType, member.assignment));
                }
                g.assigning = generation;
            }
        }
        if (superseded != null) {
            superseded.complete(ClassicMessages.syncError(Errors.REBALANCE_IN_PROGRESS));
        }
        if (decided != null) {
            Map<String, Set<TopicPartition>> assignment = decided;
            write(g, generation, assignment).whenComplete((untaken, e) -> settle(g, generation, untaken, e));
        }
        return answer;
    }

    /** Writes a generation's assignment to the store after every earlier write of the group's has ended. */
    private CompletableFuture<Map<String, Set<TopicPartition>>> write(ClassicGroup g, int generation,
                                                                       Map<String, Set<TopicPartition>> assignment) {
        synchronized (g) {
            CompletableFuture<Map<String, Set<TopicPartition>>> next = g.assignments.handle((v, e) -> null)
                    .thenCompose(v -> membership.assign(g.id, generation, assignment));
            g.assignments = next;
            return next;
        }
    }

    /**
     * The answer to a member this node does not hold (its group's coordinator moved here, say): if its session is
     * in the store, a heartbeat moves it here and the member is told to rejoin, which it does with its id (and its
     * partition leases); else it is unknown.
     */
    CompletableFuture<Errors> unknownHere(String group, String memberId) {
        if (memberId == null || memberId.isEmpty() || !io.strata.metadata.group.GroupNames.validMember(memberId)) {
            return done(Errors.UNKNOWN_MEMBER_ID);
        }
        return coordinator.heartbeat(group, memberId).handle((v, e) -> e == null ? Errors.REBALANCE_IN_PROGRESS
                : Errors.UNKNOWN_MEMBER_ID);
    }

    /** The leader's assignment is in the store (or could not be written): the generation is stable, or rebalances. */
    private void settle(ClassicGroup g, int generation, Map<String, Set<TopicPartition>> untaken, Throwable failure) {
        List<Runnable> after = new ArrayList<>();
        synchronized (g) {
            if (g.generation != generation || g.state != ClassicGroup.State.COMPLETING_REBALANCE) {
                return; // a later rebalance took over
            }
            g.assigning = -1;
            if (failure != null) {
                LOG.info("could not keep the assignment of Kafka group {} generation {}: {}", g.id, generation,
                        KafkaErrors.describe(failure));
                prepareRebalance(g, after);
            } else {
                g.untaken = untaken;
                g.state = ClassicGroup.State.STABLE;
                for (ClassicGroup.Member m : g.members.values()) {
                    if (m.awaitingSync != null) {
                        CompletableFuture<SyncGroupResponseData> sync = m.awaitingSync;
                        m.awaitingSync = null;
                        SyncGroupResponseData response = ClassicMessages.syncOk(g, m.assignment);
                        after.add(() -> sync.complete(response));
                    }
                }
            }
        }
        after.forEach(Runnable::run);
    }

    // ---- Heartbeat, LeaveGroup

    public CompletableFuture<Errors> heartbeat(String groupId, String memberId, int generationId) {
        ClassicGroup g = groups.get(groupId);
        if (g == null) {
            return unknownHere(groupId, memberId);
        }
        Errors answer;
        synchronized (g) {
            ClassicGroup.Member m = g.members.get(memberId);
            if (m == null) {
                return unknownHere(groupId, memberId);
            }
            m.heardNanos = System.nanoTime();
            if (g.state == ClassicGroup.State.PREPARING_REBALANCE) {
                answer = Errors.REBALANCE_IN_PROGRESS;
            } else if (generationId != g.generation) {
                answer = Errors.ILLEGAL_GENERATION;
            } else {
                answer = Errors.NONE;
            }
        }
        return coordinator.heartbeat(groupId, memberId).handle((v, e) -> {
            if (e != null && KafkaErrors.unwrap(e) instanceof UnknownMemberException) {
                LOG.debug("group {}: the session of {} ended in the store", g.id, memberId);
                remove(g, memberId, false); // its store session ended: it is gone here too
                return Errors.UNKNOWN_MEMBER_ID;
            }
            return answer;
        });
    }

    /**
     * Removes members at their request; answers each one's error (NONE, or UNKNOWN_MEMBER_ID) once their sessions
     * have ended in the store too, so that a describe after the answer no longer shows them.
     */
    public CompletableFuture<Map<String, Errors>> leave(String groupId, List<String> memberIds) {
        Map<String, Errors> out = new LinkedHashMap<>();
        ClassicGroup g = groups.get(groupId);
        List<CompletableFuture<Void>> ended = new ArrayList<>();
        for (String id : memberIds) {
            boolean removed = g != null && remove(g, id, false);
            out.put(id, removed ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID);
            if (removed) {
                ended.add(leaveStore(groupId, id));
            }
        }
        return CompletableFuture.allOf(ended.toArray(CompletableFuture[]::new)).thenApply(v -> out);
    }

    /** Takes a member out of the group (and its store session, unless that already ended); a rebalance follows. */
    private boolean remove(ClassicGroup g, String memberId, boolean endSession) {
        List<Runnable> after = new ArrayList<>();
        boolean removed;
        synchronized (g) {
            ClassicGroup.Member m = g.members.remove(memberId);
            removed = m != null || g.pending.remove(memberId) != null;
            if (m != null) {
                if (m.awaitingJoin != null) {
                    CompletableFuture<JoinGroupResponseData> join = m.awaitingJoin;
                    after.add(() -> join.complete(ClassicMessages.joinError(Errors.UNKNOWN_MEMBER_ID, memberId)));
                }
                if (m.awaitingSync != null) {
                    CompletableFuture<SyncGroupResponseData> sync = m.awaitingSync;
                    after.add(() -> sync.complete(ClassicMessages.syncError(Errors.UNKNOWN_MEMBER_ID)));
                }
                if (g.members.isEmpty()) {
                    g.state = ClassicGroup.State.EMPTY;
                    g.generation++;
                    g.leaderId = null;
                    g.protocolName = null;
                    g.protocolType = null;
                } else if (g.state == ClassicGroup.State.PREPARING_REBALANCE) {
                    if (g.allJoined()) {
                        completeJoin(g, after);
                    }
                } else {
                    prepareRebalance(g, after);
                }
            }
        }
        if (removed && endSession) {
            after.add(() -> leaveStore(g.id, memberId));
        }
        after.forEach(Runnable::run);
        return removed;
    }

    private CompletableFuture<Void> leaveStore(String group, String memberId) {
        return coordinator.leave(group, memberId).exceptionally(e -> null); // gone already: nothing to end
    }

    // ---- OffsetCommit (the protocol's checks; the store fences by partition leases)

    /** Whether {@code memberId} may commit under {@code generation} now: NONE, or the error Kafka answers. */
    public Errors mayCommit(String groupId, String memberId, int generation) {
        return mayCommit(groupId, memberId, generation, false);
    }

    /**
     * As {@link #mayCommit(String, String, int)}; {@code transactional} (TxnOffsetCommit): a rebalance being completed
     * does not refuse it, as Kafka's coordinator does not (the partition leases fence it at the commit).
     */
    public Errors mayCommit(String groupId, String memberId, int generation, boolean transactional) {
        ClassicGroup g = groups.get(groupId);
        if (g == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        synchronized (g) {
            ClassicGroup.Member m = g.members.get(memberId);
            if (m == null) {
                return Errors.UNKNOWN_MEMBER_ID;
            }
            if (generation != g.generation) {
                return Errors.ILLEGAL_GENERATION;
            }
            if (g.state == ClassicGroup.State.COMPLETING_REBALANCE && !transactional) {
                return Errors.REBALANCE_IN_PROGRESS;
            }
            m.heardNanos = System.nanoTime();
            return Errors.NONE;
        }
    }

    /** Commits a member's offsets; partitions it does not hold come back as refused (nothing of them written). */
    public CompletableFuture<Map<TopicPartition, Errors>> commit(String groupId, String memberId,
                                                                  List<GroupCoordinator.CommitRequest> offsets) {
        return GroupCommits.commit(coordinator, groupId, memberId, offsets, Errors.ILLEGAL_GENERATION);
    }

    // ---- the sweep

    private void sweep() {
        long now = System.nanoTime();
        for (ClassicGroup g : groups.values()) {
            try {
                sweep(g, now);
            } catch (RuntimeException e) {
                LOG.warn("sweeping Kafka group {} failed", g.id, e);
            }
        }
    }

    private void sweep(ClassicGroup g, long now) {
        List<Runnable> after = new ArrayList<>();
        List<String> silent = new ArrayList<>();
        boolean retryUntaken = false;
        synchronized (g) {
            g.pending.entrySet().removeIf(e -> {
                if (now > e.getValue()) {
                    after.add(() -> leaveStore(g.id, e.getKey()));
                    return true;
                }
                return false;
            });
            for (ClassicGroup.Member m : g.members.values()) {
                boolean waiting = m.awaitingJoin != null || m.awaitingSync != null;
                if (waiting) {
                    if (now - m.beatNanos > TimeUnit.MILLISECONDS.toNanos(Math.max(250, m.sessionTimeoutMs / 3))) {
                        m.beatNanos = now;
                        after.add(() -> coordinator.heartbeat(g.id, m.id).exceptionally(e -> null));
                    }
                } else if (now - m.heardNanos > TimeUnit.MILLISECONDS.toNanos(m.sessionTimeoutMs)) {
                    silent.add(m.id);
                }
            }
            if (g.state == ClassicGroup.State.PREPARING_REBALANCE && g.joinDeadlineNanos != 0
                    && now > g.joinDeadlineNanos) {
                completeJoin(g, after);
            }
            retryUntaken = g.state == ClassicGroup.State.STABLE && !g.untaken.isEmpty() && g.assigning < 0;
            if (retryUntaken) {
                g.assigning = g.generation;
            }
            if (g.state == ClassicGroup.State.EMPTY && g.members.isEmpty() && g.pending.isEmpty()) {
                groups.remove(g.id, g);
            }
        }
        after.forEach(Runnable::run);
        silent.forEach(id -> {
            LOG.debug("group {}: {} was silent for its session", g.id, id);
            remove(g, id, true);
        });
        if (retryUntaken) {
            int generation;
            Map<String, Set<TopicPartition>> assignment = new LinkedHashMap<>();
            synchronized (g) {
                generation = g.generation;
                g.members.values().forEach(m -> assignment.put(m.id, ClassicMessages.partitionsOf(g.protocolType, m.assignment)));
            }
            write(g, generation, assignment).whenComplete((untaken, e) -> {
                synchronized (g) {
                    if (g.generation == generation) {
                        g.assigning = -1;
                        if (e == null) {
                            g.untaken = untaken;
                        }
                    }
                }
            });
        }
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    @Override
    public void close() {
        sweeper.cancel(false);
    }
}
