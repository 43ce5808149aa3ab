package io.strata.metadata.group;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The assignment a group is moving to: member id to the partitions it should own. Members take a partition
 * only once its previous owner released it or left; {@code generation} counts the changes.
 */
public record TargetAssignment(long generation, Map<String, List<TopicPartition>> members) {
    public TargetAssignment {
        if (generation < 0) {
            throw new IllegalArgumentException("negative generation");
        }
        TreeMap<String, List<TopicPartition>> sorted = new TreeMap<>();
        members.forEach((m, ps) -> {
            List<TopicPartition> list = new ArrayList<>(ps);
            list.sort(null);
            sorted.put(m, List.copyOf(list));
        });
        members = java.util.Collections.unmodifiableMap(sorted);
    }

    public static final TargetAssignment EMPTY = new TargetAssignment(0, Map.of());

    public List<TopicPartition> of(String memberId) {
        return members.getOrDefault(memberId, List.of());
    }

    /** The member this target gives the partition to, or null. */
    public String ownerOf(TopicPartition partition) {
        for (var e : members.entrySet()) {
            if (e.getValue().contains(partition)) {
                return e.getKey();
            }
        }
        return null;
    }

    /** The same assignment, generations aside. */
    public boolean sameAs(Map<String, List<TopicPartition>> other) {
        return members.equals(new TargetAssignment(0, other).members);
    }
}
