package io.strata.group.assign;

import io.strata.metadata.group.TargetAssignment;
import io.strata.metadata.group.TopicPartition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Decides which member should own which partition: balanced (when members subscribe to the same topics,
 * counts differ by at most one) and sticky (a partition stays with its previous member whenever balance
 * allows, so a membership change moves as few partitions as possible). A pure function of its inputs, so
 * every node that runs it over the same read reaches the same answer, and a race between nodes publishing
 * it is harmless.
 */
public final class StickyAssignor {
    private StickyAssignor() {
    }

    /**
     * @param subscriptions member id → the topics it reads
     * @param partitions    topic → its partition count (topics missing here are not assigned)
     * @param previous      the assignment in force, whose placements are kept where balance allows
     */
    public static Map<String, List<TopicPartition>> assign(Map<String, Set<String>> subscriptions,
                                                           Map<String, Integer> partitions, TargetAssignment previous) {
        subscriptions = new TreeMap<>(subscriptions);
        Map<String, List<TopicPartition>> out = new TreeMap<>();
        subscriptions.keySet().forEach(m -> out.put(m, new ArrayList<>()));
        if (subscriptions.isEmpty()) {
            return out;
        }
        Set<TopicPartition> all = new TreeSet<>();
        subscriptions.values().forEach(topics -> topics.forEach(t -> {
            for (int p = 0; p < partitions.getOrDefault(t, 0); p++) {
                all.add(new TopicPartition(t, p));
            }
        }));
        int members = subscriptions.size();
        int floor = all.size() / members;
        int extra = all.size() % members;
        // Members that had the most keep the larger shares: fewer partitions move.
        List<String> byPrevious = new ArrayList<>(subscriptions.keySet());
        byPrevious.sort(Comparator.comparingInt((String m) -> -previous.of(m).size()).thenComparing(m -> m));
        Set<TopicPartition> kept = new HashSet<>();
        for (String m : byPrevious) {
            int cap = extra > 0 ? floor + 1 : floor;
            List<TopicPartition> mine = out.get(m);
            for (TopicPartition p : previous.of(m)) {
                if (mine.size() >= cap) {
                    break;
                }
                if (all.contains(p) && subscriptions.get(m).contains(p.topic()) && kept.add(p)) {
                    mine.add(p);
                }
            }
            if (mine.size() > floor) {
                extra--;
            }
        }
        for (TopicPartition p : all) {
            if (kept.contains(p)) {
                continue;
            }
            String least = null;
            for (String m : subscriptions.keySet()) { // sorted: ties go to the first member id
                if (subscriptions.get(m).contains(p.topic())
                        && (least == null || out.get(m).size() < out.get(least).size())) {
                    least = m;
                }
            }
            out.get(least).add(p);
        }
        out.values().forEach(list -> list.sort(null));
        return out;
    }
}
