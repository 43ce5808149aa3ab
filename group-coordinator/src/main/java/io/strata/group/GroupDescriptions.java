package io.strata.group;

import io.strata.metadata.PartitionOffsets;
import io.strata.metadata.Topic;
import io.strata.metadata.group.CommittedOffset;
import io.strata.metadata.group.GroupMember;
import io.strata.metadata.group.GroupNames;
import io.strata.metadata.group.GroupSnapshot;
import io.strata.metadata.group.PartitionOwner;
import io.strata.metadata.group.TopicPartition;
import io.strata.metadata.group.UnknownGroupException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the administration, the lag metrics and the console see of groups: each group's state, members and lag per
 * partition, from the group store and the partitions' ends. The {@link GroupCoordinator}'s describing side, which
 * it runs on its threads.
 */
final class GroupDescriptions {
    private final GroupCoordinator coordinator;

    GroupDescriptions(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    GroupDescription describe(String group) throws Exception {
        GroupNames.requireGroup(group);
        GroupSnapshot snap = coordinator.await(coordinator.store().read(group));
        if (!snap.exists()) {
            throw new UnknownGroupException(group);
        }
        Map<TopicPartition, CommittedOffset> committed = coordinator.await(coordinator.store().committed(group));
        Set<TopicPartition> partitions = partitionsOf(snap, committed);
        return describe(snap, committed, partitions, coordinator.boundsOf(partitions));
    }

    /**
     * Every group's description, from four reads whatever the number of groups (every group's coordination, every
     * commit, the topics, the shard heads). With {@code known} (ends the caller read a moment ago; null: read every
     * end) no end is read: a group with a partition whose end is not among them, for its topic as it is now, is
     * left out, so that no description covers only part of its group. A lag from an end read before the commits is
     * that moment's records low, and never below 0.
     */
    List<GroupDescription> describeAll(Map<TopicPartition, PartitionOffsets> known) throws Exception {
        Map<String, GroupSnapshot> snaps = coordinator.await(coordinator.store().readAll());
        Map<String, Map<TopicPartition, CommittedOffset>> committed =
                coordinator.await(coordinator.store().committedAll());
        Map<String, Set<TopicPartition>> partitions = new HashMap<>();
        Set<TopicPartition> all = new TreeSet<>();
        for (var e : snaps.entrySet()) {
            Set<TopicPartition> ps = partitionsOf(e.getValue(), committed.getOrDefault(e.getKey(), Map.of()));
            partitions.put(e.getKey(), ps);
            all.addAll(ps);
        }
        Set<TopicPartition> unknown = new HashSet<>();
        Map<TopicPartition, PartitionOffsets> bounds = known == null ? coordinator.boundsOf(all)
                : knownOf(all, known, unknown);
        List<GroupDescription> out = new ArrayList<>();
        for (var e : snaps.entrySet()) {
            Set<TopicPartition> of = partitions.get(e.getKey());
            if (!unknown.isEmpty() && of.stream().anyMatch(unknown::contains)) {
                continue;
            }
            out.add(describe(e.getValue(), committed.getOrDefault(e.getKey(), Map.of()), of, bounds));
        }
        return out;
    }

    /**
     * The ranges among {@code known} of partitions of their topics as they are now (same id); a partition of a
     * topic that exists without one goes into {@code unknown} (those of topics gone have no range, as when read).
     */
    private Map<TopicPartition, PartitionOffsets> knownOf(Set<TopicPartition> all,
                                                          Map<TopicPartition, PartitionOffsets> known,
                                                          Set<TopicPartition> unknown) throws Exception {
        Map<TopicPartition, PartitionOffsets> out = new HashMap<>();
        for (TopicPartition p : all) {
            Optional<Topic> t = coordinator.await(coordinator.topics().get(p.topic(), p.partition()));
            if (t.isEmpty() || p.partition() >= t.get().partitions()) {
                continue;
            }
            PartitionOffsets k = known.get(p);
            if (k != null && k.partition().topicId() == t.get().topicId()) {
                out.put(p, k);
            } else {
                unknown.add(p);
            }
        }
        return out;
    }

    /** The partitions a description covers: those committed, and every partition of the members' topics. */
    private Set<TopicPartition> partitionsOf(GroupSnapshot snap, Map<TopicPartition, CommittedOffset> committed)
            throws Exception {
        Set<TopicPartition> partitions = new TreeSet<>(committed.keySet());
        for (GroupMember m : snap.members().values()) {
            for (String t : m.topics()) {
                Optional<Topic> topic = coordinator.await(coordinator.topics().get(t));
                for (int p = 0; topic.isPresent() && p < topic.get().partitions(); p++) {
                    partitions.add(new TopicPartition(t, p));
                }
            }
        }
        return partitions;
    }

    private static GroupDescription describe(GroupSnapshot snap, Map<TopicPartition, CommittedOffset> committed,
                                             Set<TopicPartition> partitions, Map<TopicPartition, PartitionOffsets> bounds) {
        List<GroupDescription.PartitionLag> lags = new ArrayList<>();
        for (TopicPartition p : partitions) {
            PartitionOffsets b = bounds.get(p);
            if (b == null) {
                continue; // a deleted topic's commits: not a partition any more
            }
            CommittedOffset c = GroupCoordinator.valid(committed.get(p), b);
            PartitionOwner owner = snap.owners().get(p);
            long at = c == null ? -1 : c.offset();
            lags.add(new GroupDescription.PartitionLag(p, owner == null ? "" : owner.memberId(), at,
                    b.logStartOffset(), b.nextOffset(),
                    at < 0 ? -1 : Math.max(0, b.nextOffset() - Math.max(at, b.logStartOffset()))));
        }
        List<GroupDescription.Member> members = new ArrayList<>();
        for (GroupMember m : snap.members().values()) {
            List<TopicPartition> owned = snap.owners().values().stream()
                    .filter(o -> o.memberId().equals(m.memberId())).map(PartitionOwner::partition).sorted().toList();
            members.add(new GroupDescription.Member(m.memberId(), m.clientId(), m.clientAddress(), m.topics(),
                    m.sessionTimeoutMs(), owned));
        }
        return new GroupDescription(snap.group(), state(snap), snap.target().generation(), members, lags);
    }

    static GroupDescription.State state(GroupSnapshot snap) {
        if (snap.members().isEmpty()) {
            return GroupDescription.State.EMPTY;
        }
        int targeted = 0;
        for (var e : snap.target().members().entrySet()) {
            if (!snap.members().containsKey(e.getKey())) {
                return GroupDescription.State.REBALANCING;
            }
            for (TopicPartition p : e.getValue()) {
                PartitionOwner o = snap.owners().get(p);
                if (o == null || !o.memberId().equals(e.getKey())) {
                    return GroupDescription.State.REBALANCING;
                }
                targeted++;
            }
        }
        boolean allTargeted = snap.members().keySet().equals(snap.target().members().keySet());
        return allTargeted && targeted == snap.owners().size() ? GroupDescription.State.STABLE
                : GroupDescription.State.REBALANCING;
    }
}
