package io.strata.group.assign;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.group.TargetAssignment;
import io.strata.metadata.group.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class StickyAssignorTest {

    private static Map<String, Set<String>> members(int n, String... topics) {
        Map<String, Set<String>> out = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            out.put(String.format("m%03d", i), Set.of(topics));
        }
        return out;
    }

    private static int moved(Map<String, List<TopicPartition>> before, Map<String, List<TopicPartition>> after) {
        int moved = 0;
        for (var e : after.entrySet()) {
            Set<TopicPartition> had = new HashSet<>(before.getOrDefault(e.getKey(), List.of()));
            moved += (int) e.getValue().stream().filter(p -> !had.contains(p)).count();
        }
        return moved;
    }

    private static void assertValidAndBalanced(Map<String, List<TopicPartition>> a, int partitions) {
        List<TopicPartition> all = new ArrayList<>();
        a.values().forEach(all::addAll);
        assertThat(all).doesNotHaveDuplicates().hasSize(partitions);
        int min = a.values().stream().mapToInt(List::size).min().orElse(0);
        int max = a.values().stream().mapToInt(List::size).max().orElse(0);
        assertThat(max - min).as("balanced: counts differ by at most one").isLessThanOrEqualTo(1);
    }

    @Test
    void threeMembersOverTwelvePartitionsGetFourEach() {
        var a = StickyAssignor.assign(members(3, "t"), Map.of("t", 12), TargetAssignment.EMPTY);
        assertThat(a.values()).allSatisfy(ps -> assertThat(ps).hasSize(4));
        assertValidAndBalanced(a, 12);
    }

    @Test
    void aHundredMembersOverAThousandPartitionsAreBalancedAndAMemberLeavingMovesOnlyItsOwn() {
        var first = StickyAssignor.assign(members(100, "t"), Map.of("t", 1000), TargetAssignment.EMPTY);
        assertValidAndBalanced(first, 1000);
        Map<String, Set<String>> fewer = members(100, "t");
        fewer.remove("m042");
        var second = StickyAssignor.assign(fewer, Map.of("t", 1000), new TargetAssignment(1, first));
        assertValidAndBalanced(second, 1000);
        assertThat(moved(first, second)).isEqualTo(10);
    }

    @Test
    void onlySubscribersGetATopicsPartitions() {
        Map<String, Set<String>> subs = new TreeMap<>(Map.of("a", Set.of("x"), "b", Set.of("x", "y"), "c", Set.of("y")));
        var a = StickyAssignor.assign(subs, Map.of("x", 4, "y", 4), TargetAssignment.EMPTY);
        assertThat(a.get("a")).allSatisfy(p -> assertThat(p.topic()).isEqualTo("x"));
        assertThat(a.get("c")).allSatisfy(p -> assertThat(p.topic()).isEqualTo("y"));
        List<TopicPartition> all = new ArrayList<>();
        a.values().forEach(all::addAll);
        assertThat(all).doesNotHaveDuplicates().hasSize(8);
    }

    @Property(tries = 300)
    void anyMembershipChangeStaysBalancedAndMovesNoMoreThanBalanceNeeds(
            @ForAll @IntRange(min = 1, max = 30) int before, @ForAll @IntRange(min = 1, max = 30) int after,
            @ForAll @IntRange(min = 0, max = 200) int partitions) {
        var first = StickyAssignor.assign(members(before, "t"), Map.of("t", partitions), TargetAssignment.EMPTY);
        assertValidAndBalanced(first, partitions);
        var second = StickyAssignor.assign(members(after, "t"), Map.of("t", partitions), new TargetAssignment(1, first));
        assertValidAndBalanced(second, partitions);
        // The least any balanced assignment can move: what departed members held, plus what surviving members
        // hold beyond the largest share they may keep, plus nothing else.
        int floor = partitions / after;
        int extra = partitions % after;
        List<Integer> survivors = new ArrayList<>();
        int departed = 0;
        for (var e : first.entrySet()) {
            if (Integer.parseInt(e.getKey().substring(1)) < after) {
                survivors.add(e.getValue().size());
            } else {
                departed += e.getValue().size();
            }
        }
        survivors.sort((x, y) -> y - x);
        int excess = 0;
        for (int i = 0; i < survivors.size(); i++) {
            excess += Math.max(0, survivors.get(i) - (i < extra ? floor + 1 : floor));
        }
        assertThat(moved(first, second)).isEqualTo(departed + excess);
    }

    @Property(tries = 200)
    void theSameInputsGiveTheSameAnswer(@ForAll @IntRange(min = 1, max = 20) int n,
                                        @ForAll @IntRange(min = 0, max = 100) int partitions) {
        Map<String, Set<String>> subs = new HashMap<>(members(n, "t"));
        var a = StickyAssignor.assign(subs, Map.of("t", partitions), TargetAssignment.EMPTY);
        var b = StickyAssignor.assign(new TreeMap<>(subs), Map.of("t", partitions), TargetAssignment.EMPTY);
        assertThat(a).isEqualTo(b);
    }
}
