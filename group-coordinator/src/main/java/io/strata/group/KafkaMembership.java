package io.strata.group;

import io.strata.metadata.PartitionOffsets;
import io.strata.metadata.group.GroupMember;
import io.strata.metadata.group.GroupSnapshot;
import io.strata.metadata.group.MemberSpec;
import io.strata.metadata.group.OffsetCommit;
import io.strata.metadata.group.OffsetReset;
import io.strata.metadata.group.PartitionOwner;
import io.strata.metadata.group.TargetAssignment;
import io.strata.metadata.group.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * The store side of Kafka's classic group protocol, so that a Kafka consumer group is a Strata consumer group:
 * its members are members (sessions hosted here, shown by describe, blocking a reset while alive), the
 * assignment its leader made is the group's target, and each member holds the partition leases of what it was
 * assigned, so its commits are fenced exactly as a Strata member's are. The protocol itself (join barrier,
 * leader, generations) is the Kafka door's; this class keeps what it decided in the store. Thread-safe.
 */
public final class KafkaMembership {
    private final GroupCoordinator coordinator;

    public KafkaMembership(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    /** A new Kafka member, hosted on this node; {@link MixedProtocolException} while Strata members are live. */
    public CompletableFuture<GroupMember> join(String group, String clientId, String clientAddress,
                                               List<String> topics, Duration sessionTimeout) {
        return coordinator.blocking(() -> {
            io.strata.metadata.group.GroupNames.requireGroup(group);
            GroupSnapshot snap = coordinator.await(coordinator.store().read(group));
            if (snap.members().values().stream().anyMatch(m -> !m.kafka())) {
                throw new MixedProtocolException(group, true);
            }
            GroupSettings s = coordinator.settings();
            if (sessionTimeout.compareTo(s.minSessionTimeout()) < 0 || sessionTimeout.compareTo(s.maxSessionTimeout()) > 0) {
                throw new IllegalArgumentException("session timeout " + sessionTimeout.toMillis() + " ms is outside the "
                        + "server's bounds [" + s.minSessionTimeout().toMillis() + ", "
                        + s.maxSessionTimeout().toMillis() + "] ms");
            }
            List<String> valid = topics.stream().filter(io.strata.metadata.TopicConfig::validName).sorted()
                    .distinct().toList();
            GroupMember m = coordinator.await(coordinator.sessions().join(group, new MemberSpec(
                    clientId.isEmpty() ? "consumer" : clientId, clientAddress, valid, sessionTimeout,
                    OffsetReset.EARLIEST, MemberSpec.KAFKA)));
            coordinator.stats().joins.increment();
            return m;
        });
    }

    /**
     * A member of Kafka's consumer protocol (KIP-848), hosted on this node: a member of Strata's own protocol (the
     * coordinator assigns its partitions, so it may share its group with Strata's clients), under the id its
     * client chose (empty: one is made). A member of that id still in the group is a client joining again after
     * it was fenced or restarted: it is ended first (its partitions freed), as Kafka's coordinator replaces it.
     * Unlike Strata's own join, topics that do not exist yet are kept in the subscription (Kafka's consumers
     * wait for them). {@link MixedProtocolException} while classic Kafka members are live.
     */
    public CompletableFuture<GroupMember> joinConsumer(String group, String memberId, String clientId,
                                                       String clientAddress, List<String> topics,
                                                       OffsetReset reset) {
        return coordinator.blocking(() -> {
            io.strata.metadata.group.GroupNames.requireGroup(group);
            List<String> valid = topics.stream().filter(io.strata.metadata.TopicConfig::validName).sorted()
                    .distinct().toList();
            if (valid.isEmpty()) {
                throw new IllegalArgumentException("a member subscribes to at least one valid topic name: " + topics);
            }
            GroupSnapshot snap = coordinator.await(coordinator.store().read(group));
            if (snap.members().values().stream().anyMatch(GroupMember::kafka)) {
                throw MixedProtocolException.classicMembersLive(group);
            }
            MemberSpec spec = new MemberSpec(clientId.isEmpty() ? "consumer" : clientId, clientAddress, valid,
                    consumerSessionTimeout(), reset, MemberSpec.STRATA, memberId);
            for (int attempt = 0; ; attempt++) {
                if (!memberId.isEmpty() && snap.members().containsKey(memberId)) {
                    coordinator.await(coordinator.sessions().leave(group, memberId));
                    coordinator.stats().leaves.increment();
                }
                try {
                    GroupMember m = coordinator.await(coordinator.sessions().join(group, spec));
                    coordinator.stats().joins.increment();
                    return m;
                } catch (io.strata.metadata.group.MemberIdTakenException e) {
                    if (attempt >= 2) {
                        throw e;
                    }
                    snap = coordinator.await(coordinator.store().read(group)); // joined again meanwhile: end it too
                }
            }
        });
    }

    /** The member as the store holds it; empty when it is not in the group. */
    public CompletableFuture<java.util.Optional<GroupMember>> member(String group, String memberId) {
        return coordinator.store().member(group, memberId);
    }

    /** Kafka's default session of its consumer protocol (group.consumer.session.timeout.ms). */
    private static final Duration CONSUMER_SESSION = Duration.ofSeconds(45);

    /**
     * The session of a member of Kafka's consumer protocol, which leaves sessions to the server: Kafka's 45 s
     * within the server's bounds. Longer than Strata's own default because a Kafka client finds a new
     * coordinator only once the old one's registration has ended (Metadata names it until then), and its
     * session must outlast that search.
     */
    public Duration consumerSessionTimeout() {
        GroupSettings s = coordinator.settings();
        Duration d = CONSUMER_SESSION.compareTo(s.maxSessionTimeout()) > 0 ? s.maxSessionTimeout() : CONSUMER_SESSION;
        return d.compareTo(s.minSessionTimeout()) < 0 ? s.minSessionTimeout() : d;
    }

    /**
     * Makes {@code assignment} (member id to partitions, for the generation the Kafka door completed) the group's
     * target and its members' partition leases: first every member gives up what it holds and is not assigned
     * any more, then each takes what it is assigned. Answers, per member, the assigned partitions it could not
     * take (held by a member this node does not know of: its commits for them are refused until it can).
     */
    public CompletableFuture<Map<String, Set<TopicPartition>>> assign(String group, long generation,
                                                                      Map<String, Set<TopicPartition>> given) {
        return coordinator.blocking(() -> {
            Map<String, Set<TopicPartition>> assignment = existing(given);
            GroupSnapshot snap = publish(group, generation, assignment);
            Map<TopicPartition, String> assignedTo = new HashMap<>();
            assignment.forEach((m, ps) -> ps.forEach(p -> assignedTo.put(p, m)));
            Map<String, Set<TopicPartition>> held = new HashMap<>();
            for (PartitionOwner o : snap.owners().values()) {
                held.computeIfAbsent(o.memberId(), k -> new HashSet<>()).add(o.partition());
            }
            // A partition is given up only once another member is assigned it: under the cooperative protocol a
            // revoked partition is first assigned to nobody, and its holder commits it as it lets go.
            for (var e : held.entrySet()) {
                Set<TopicPartition> release = new TreeSet<>();
                for (TopicPartition p : e.getValue()) {
                    String next = assignedTo.get(p);
                    if (next != null && !next.equals(e.getKey())) {
                        release.add(p);
                    }
                }
                if (!release.isEmpty() && snap.members().containsKey(e.getKey())) {
                    coordinator.await(coordinator.store().commit(group, e.getKey(), List.of(), release));
                }
            }
            Map<String, Set<TopicPartition>> missing = new HashMap<>();
            for (var e : assignment.entrySet()) {
                GroupMember member = snap.members().get(e.getKey());
                Set<TopicPartition> want = new TreeSet<>(e.getValue());
                want.removeAll(held.getOrDefault(e.getKey(), Set.of()));
                if (member == null) {
                    missing.put(e.getKey(), new TreeSet<>(e.getValue()));
                    continue;
                }
                if (!want.isEmpty()) {
                    Map<TopicPartition, Long> got = coordinator.await(coordinator.store().acquire(group, member, want));
                    want.removeAll(got.keySet());
                    coordinator.stats().partitionsAcquired.add(got.size());
                    if (!want.isEmpty()) {
                        missing.put(e.getKey(), want);
                    }
                }
            }
            return missing;
        });
    }

    /**
     * The assignment less the partitions of topics that do not exist and past their topics' partition counts: a
     * leader's assignment is the client's to make and may name anything, and only what exists becomes a lease (a
     * member's fetch of the rest is answered that it does not exist).
     */
    private Map<String, Set<TopicPartition>> existing(Map<String, Set<TopicPartition>> assignment) throws Exception {
        Map<String, Integer> highest = new HashMap<>();
        assignment.values().forEach(ps -> ps.forEach(p -> highest.merge(p.topic(), p.partition(), Math::max)));
        Map<String, Integer> partitions = new HashMap<>();
        for (var t : highest.entrySet()) {
            // Asked with the highest partition named: a topic grown on another node within the cache's life is read
            // again, not cut to its old size.
            partitions.put(t.getKey(), coordinator.await(coordinator.topics().get(t.getKey(), t.getValue()))
                    .map(topic -> topic.partitions()).orElse(0));
        }
        Map<String, Set<TopicPartition>> out = new HashMap<>();
        for (var e : assignment.entrySet()) {
            Set<TopicPartition> kept = new TreeSet<>();
            for (TopicPartition p : e.getValue()) {
                int count = partitions.get(p.topic());
                if (p.partition() >= 0 && p.partition() < count) {
                    kept.add(p);
                }
            }
            out.put(e.getKey(), kept);
        }
        return out;
    }

    /**
     * Publishes the target over the one read, reading again when another writer came between; answers the
     * snapshot it was published over. Generations are the coordinator's, which calls this in order per group; a
     * coordinator that took the group over counts from its own start, so a lower number than the stored one is
     * not stale.
     */
    private GroupSnapshot publish(String group, long generation, Map<String, Set<TopicPartition>> assignment)
            throws Exception {
        Map<String, List<TopicPartition>> target = new HashMap<>();
        assignment.forEach((m, ps) -> target.put(m, List.copyOf(ps)));
        for (int attempt = 0; attempt < 5; attempt++) {
            GroupSnapshot snap = coordinator.await(coordinator.store().read(group));
            if (coordinator.await(coordinator.store().publishTarget(group, new TargetAssignment(generation, target),
                    snap.targetModRevision()))) {
                coordinator.stats().targetsPublished.increment();
                return snap;
            }
        }
        throw new io.strata.metadata.MetadataException("the target of group '" + group + "' kept changing", true);
    }

    /**
     * Deletes the group's committed offsets of {@code partitions} (Kafka's OffsetDelete), except those of topics a
     * live member subscribes to, which are answered; {@link io.strata.metadata.group.UnknownGroupException} for
     * a group that does not exist.
     */
    public CompletableFuture<Set<TopicPartition>> deleteOffsets(String group, List<TopicPartition> partitions) {
        return coordinator.blocking(() -> coordinator.await(coordinator.store().deleteOffsets(group, partitions)));
    }

    /**
     * Offsets committed by a Kafka consumer that is no member (it assigns its partitions itself): refused while
     * the group has live members ({@link io.strata.metadata.group.GroupActiveException}); each within its
     * partition's stored range.
     */
    public CompletableFuture<Void> commitWithoutMembers(String group, List<GroupCoordinator.CommitRequest> offsets) {
        return coordinator.blocking(() -> {
            io.strata.metadata.group.GroupNames.requireGroup(group);
            List<OffsetCommit> commits = new ArrayList<>();
            Map<TopicPartition, PartitionOffsets> bounds = coordinator.boundsOf(offsets.stream()
                    .map(GroupCoordinator.CommitRequest::partition).collect(java.util.stream.Collectors.toSet()));
            for (GroupCoordinator.CommitRequest c : offsets) {
                PartitionOffsets b = bounds.get(c.partition());
                if (b == null) {
                    throw new UnknownTopicException(c.partition().topic());
                }
                if (c.offset() < b.logStartOffset() || c.offset() > b.nextOffset()) {
                    throw new OffsetOutOfRangeException(c.partition(), c.offset(), b.logStartOffset(), b.nextOffset());
                }
                commits.add(new OffsetCommit(c.partition(), c.offset(), c.metadata() == null ? "" : c.metadata(),
                        b.partition().topicId(), 0));
            }
            coordinator.await(coordinator.store().commitWithoutMembers(group, commits));
            coordinator.stats().commits.increment();
            coordinator.stats().committedPartitions.add(commits.size());
            return null;
        });
    }
}
