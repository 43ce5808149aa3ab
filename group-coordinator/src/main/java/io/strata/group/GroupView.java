package io.strata.group;

import io.strata.group.assign.StickyAssignor;
import io.strata.metadata.group.GroupMember;
import io.strata.metadata.group.GroupSnapshot;
import io.strata.metadata.group.PartitionOwner;
import io.strata.metadata.group.TargetAssignment;
import io.strata.metadata.group.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One group as this node sees it while members it serves are streaming their assignments: told of every
 * change of the group's coordination keys by the coordinator's one watch of all groups, it reconciles after
 * each (coalesced: at most one runs, and one more
 * follows if changes came meanwhile). A reconcile (1) publishes a new target when the members or the topics
 * changed, (2) takes, for each member served here, the partitions its target gives it that nobody owns, and
 * (3) tells each member what it owns, where to start it and what to give up. Ownership itself is decided by
 * the store (create-if-absent owner keys), so nodes reconciling the same group at once cannot break it.
 *
 * <p>Thread-safe. Runs on the coordinator's executor; the coordinator owns it.
 */
final class GroupView {
    private static final Logger LOG = LoggerFactory.getLogger(GroupView.class);

    private final String group;
    private final GroupCoordinator coordinator;
    private final Executor executor;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    /** What the last reconcile saw: its snapshot's change mark and the partition counts of its topics. */
    private volatile String reconciledMark = "";
    private boolean running;
    private boolean again;
    private boolean closed;

    /** One member's stream: what it was told last, and where its owned partitions start. */
    private static final class Session {
        final AssignmentSink sink;
        /** The revision at which the member was seen in the group when its stream opened. */
        final long seenAt;
        final Map<TopicPartition, AssignedPartition> started = new HashMap<>();
        MemberAssignment last;

        Session(AssignmentSink sink, long seenAt) {
            this.sink = sink;
            this.seenAt = seenAt;
        }
    }

    GroupView(String group, GroupCoordinator coordinator, Executor executor) {
        this.group = group;
        this.coordinator = coordinator;
        this.executor = executor;
    }

    /** Serves the member's stream; {@code seenAt}: a revision at which the member was in the group. */
    void add(String memberId, AssignmentSink sink, long seenAt) {
        Session old = sessions.put(memberId, new Session(sink, seenAt));
        if (old != null) {
            old.sink.onEnd(new IllegalStateException("the member opened another assignment stream"));
        }
        reconcile();
    }

    /** Forgets the member's stream; answers whether the view serves nobody now. */
    boolean remove(String memberId, AssignmentSink sink) {
        sessions.computeIfPresent(memberId, (id, s) -> s.sink == sink ? null : s);
        return sessions.isEmpty();
    }

    boolean idle() {
        return sessions.isEmpty();
    }

    /** Asks for a reconcile; runs one now unless one is running, which is then followed by another. */
    void reconcile() {
        synchronized (this) {
            if (closed) {
                return;
            }
            if (running) {
                again = true;
                return;
            }
            running = true;
        }
        executor.execute(this::run);
    }

    private void run() {
        while (true) {
            try {
                reconcileOnce();
            } catch (Exception e) {
                reconciledMark = "";
                LOG.warn("reconciling group {} failed (retried at the next change or tick): {}", group, e.toString());
            }
            synchronized (this) {
                if (!again || closed) {
                    running = false;
                    return;
                }
                again = false;
            }
        }
    }

    private void reconcileOnce() throws Exception {
        coordinator.stats().reconciles.increment();
        GroupSnapshot snap = coordinator.await(coordinator.store().read(group));
        coordinator.watchFrom(snap.revision()); // every change after this read reaches this view
        GroupSnapshot read = snap;
        if (read.owners().values().stream().anyMatch(o -> !read.members().containsKey(o.memberId()))
                && coordinator.await(coordinator.store().dropOrphans(read)) > 0) {
            snap = coordinator.await(coordinator.store().read(group)); // partitions freed: take them below
        }
        for (int i = 0; i < 3 && publishTarget(snap); i++) {
            snap = coordinator.await(coordinator.store().read(group));
        }
        for (var e : sessions.entrySet()) {
            inform(snap, e.getKey(), e.getValue());
        }
        reconciledMark = mark(snap); // only after a whole pass: a failed one is looked at again by the next tick
    }

    /**
     * Reconciles unless {@code snap} (read by the coordinator's periodic pass over every group) shows the group
     * and its topics as the last reconcile saw them: the pass then costs no read of its own per group.
     */
    void reconcileIfChanged(GroupSnapshot snap) throws Exception {
        if (snap == null || !mark(snap).equals(reconciledMark)) {
            reconcile();
        }
    }

    private String mark(GroupSnapshot snap) throws Exception {
        StringBuilder b = new StringBuilder(snap.changeMark());
        for (String t : new TreeSet<>(snap.members().values().stream().flatMap(m -> m.topics().stream()).toList())) {
            b.append('/').append(coordinator.await(coordinator.topics().get(t)).map(x -> x.partitions()).orElse(0));
        }
        return b.toString();
    }

    /** Publishes the target the members and topics call for, if it differs; true when it did. */
    private boolean publishTarget(GroupSnapshot snap) throws Exception {
        Map<String, Set<String>> subscriptions = new TreeMap<>();
        snap.members().forEach((id, m) -> subscriptions.put(id, new TreeSet<>(m.topics())));
        Map<String, Integer> partitions = new HashMap<>();
        for (Set<String> topics : subscriptions.values()) {
            for (String t : topics) {
                if (!partitions.containsKey(t)) {
                    partitions.put(t, coordinator.await(coordinator.topics().get(t)).map(x -> x.partitions()).orElse(0));
                }
            }
        }
        Map<String, List<TopicPartition>> wanted = StickyAssignor.assign(subscriptions, partitions, snap.target());
        if (snap.target().sameAs(wanted)) {
            return false;
        }
        TargetAssignment next = new TargetAssignment(snap.target().generation() + 1, wanted);
        boolean published = coordinator.await(coordinator.store().publishTarget(group, next, snap.targetModRevision()));
        if (published) {
            coordinator.stats().targetsPublished.increment();
            LOG.info("group {} generation {}: {} member(s), {} partition(s)", group, next.generation(),
                    wanted.size(), wanted.values().stream().mapToInt(List::size).sum());
        }
        return true; // published here or by another node: read again either way
    }

    private void inform(GroupSnapshot snap, String memberId, Session session) throws Exception {
        GroupMember member = snap.members().get(memberId);
        if (member == null) {
            if (snap.revision() < session.seenAt) {
                return; // read before the member was seen: the reconcile its arrival asked for will see it
            }
            if (sessions.remove(memberId, session)) {
                session.sink.onEnd(new UnknownMemberException(group, memberId));
            }
            return;
        }
        Set<TopicPartition> want = new TreeSet<>(snap.target().of(memberId));
        Map<TopicPartition, Long> owned = new TreeMap<>();
        for (PartitionOwner o : snap.owners().values()) {
            if (o.memberId().equals(memberId)) {
                owned.put(o.partition(), o.epoch());
            }
        }
        List<TopicPartition> free = want.stream().filter(p -> !snap.owners().containsKey(p)).toList();
        if (!free.isEmpty()) {
            Map<TopicPartition, Long> taken = coordinator.await(coordinator.store().acquire(group, member, free));
            coordinator.stats().partitionsAcquired.add(taken.size());
            owned.putAll(taken);
        }
        // A start is known only for the ownership it was computed for: a new epoch starts afresh.
        session.started.entrySet().removeIf(e -> !Long.valueOf(e.getValue().epoch()).equals(owned.get(e.getKey())));
        Map<TopicPartition, Long> fresh = new TreeMap<>(owned);
        fresh.keySet().removeAll(session.started.keySet());
        if (!fresh.isEmpty()) {
            session.started.putAll(coordinator.starts(group, member, fresh));
        }
        List<AssignedPartition> assigned = new ArrayList<>();
        owned.keySet().forEach(p -> assigned.add(session.started.get(p)));
        List<TopicPartition> revoking = owned.keySet().stream().filter(p -> !want.contains(p)).toList();
        Set<TopicPartition> waiting = new HashSet<>(want);
        waiting.removeAll(owned.keySet());
        MemberAssignment next = new MemberAssignment(snap.target().generation(), assigned, revoking, waiting.size());
        if (!next.equals(session.last) && sessions.get(memberId) == session) {
            session.last = next;
            session.sink.onAssignment(next);
        }
    }

    void close() {
        synchronized (this) {
            closed = true;
        }
        sessions.values().forEach(s -> s.sink.onEnd(new IllegalStateException("the node is stopping")));
        sessions.clear();
    }
}
