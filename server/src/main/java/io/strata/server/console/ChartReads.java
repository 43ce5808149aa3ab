package io.strata.server.console;

import io.strata.metadata.PartitionId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.IntPredicate;

/**
 * What one round of the console's charts reads (a pure decision, {@link ConsoleHistory} does the reading): the
 * partitions by slot of {@code shardsPerSlot} shards, each slot read at its own moment of the round; every shard
 * whose ledger the node holds, and at most {@code newLedgers} of the others, lowest first. The topics with a
 * partition in a shard left out wait for a later round.
 */
record ChartReads(SortedMap<Integer, List<PartitionId>> bySlot, Set<Long> waiting) {

    static ChartReads plan(SortedMap<Integer, List<PartitionId>> byShard, IntPredicate held, int newLedgers,
                           int shardsPerSlot) {
        int budget = newLedgers;
        Set<Long> waiting = new HashSet<>();
        SortedMap<Integer, List<PartitionId>> bySlot = new TreeMap<>();
        for (Map.Entry<Integer, List<PartitionId>> shard : byShard.entrySet()) {
            if (!held.test(shard.getKey())) {
                if (budget == 0) {
                    shard.getValue().forEach(id -> waiting.add(id.topicId()));
                    continue;
                }
                budget--;
            }
            bySlot.computeIfAbsent(shard.getKey() / shardsPerSlot, k -> new ArrayList<>()).addAll(shard.getValue());
        }
        return new ChartReads(bySlot, waiting);
    }
}
