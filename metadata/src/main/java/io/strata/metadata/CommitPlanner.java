package io.strata.metadata;

import io.strata.metadata.ShardCommitter.Chunk;
import io.strata.metadata.ShardCommitter.Group;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * How blocks committed together are cut into metadata transactions, within the store's limits on a
 * transaction's operations and bytes: how many blocks go together at all ({@link #fitTogether}), the runs of
 * shards each transaction holds ({@link #parts}), the shards a transaction written in one write binds together
 * ({@link #units}), and the transactions too spread to be written so ({@link #tooSpread}). Pure: it reads the
 * blocks and the limits, never the store. Thread-safe.
 */
final class CommitPlanner {
    private final int maxOps;
    private final long maxBytes;
    private final ToIntFunction<PartitionId> shardOf;
    private final KeyLayout keys;

    CommitPlanner(int maxOps, long maxBytes, ToIntFunction<PartitionId> shardOf, KeyLayout keys) {
        this.maxOps = maxOps;
        this.maxBytes = maxBytes;
        this.shardOf = shardOf;
        this.keys = keys;
    }

    /**
     * Whether the blocks' writes surely fit in one transaction: a head and an entry per block for every shard;
     * the guards, and what a retry reads, within the op limit too; and their bytes (an index chunk reference
     * and a producer batch each encode in well under the bytes counted here) within half the byte limit.
     */
    boolean fitTogether(List<BlockCommit> commits) {
        Set<Integer> shards = new HashSet<>();
        long bytes = 0;
        for (BlockCommit c : commits) {
            bytes += 2L * c.objectKey().length();
            for (BlockChunk chunk : c.chunks()) {
                shards.add(shardOf.applyAsInt(chunk.partition()));
                bytes += 160 + 64L * chunk.producerBatches().size();
            }
        }
        Set<String> open = new HashSet<>();
        OneWrites oneWrites = new OneWrites(commits, keys);
        for (int b = 0; b < commits.size(); b++) {
            int block = b;
            commits.get(b).chunks().forEach(chunk -> oneWrites.transactionKeys(block, chunk, open));
        }
        for (OneWriteTransaction t : oneWrites.all()) {
            bytes += t.committedRecord().length;
        }
        bytes += (long) shards.size() * (1 + commits.size()) * 256 + open.size() * 96L; // keys, heads, guards, framing
        // heads, gc markers, topic deletions, open transactions (and the records of those committed in this write)
        int guards = shards.size() + commits.size() + 1 + open.size();
        return (long) shards.size() * (1 + commits.size()) + open.size() <= maxOps
                && guards + ShardCommitter.MAX_UNKNOWN_ATTEMPTS + 1 <= maxOps // what a retry reads with them
                && bytes <= maxBytes / 2;
    }

    /**
     * The group's shards in runs that one transaction each holds: per shard a head and an entry per block written,
     * and guarded and read with them the heads, the objects' collection markers, the topic deletions, the open
     * transactions the run's batches belong to, and what a retry reads besides.
     */
    List<List<Integer>> parts(Group group) {
        int perShard = 1 + group.commits().size();
        int fixed = group.commits().size() + 1 + ShardCommitter.MAX_UNKNOWN_ATTEMPTS + 1;
        List<List<Integer>> parts = new ArrayList<>();
        List<Integer> part = new ArrayList<>();
        Set<String> open = new HashSet<>();
        for (List<Integer> unit : units(group, List.copyOf(group.chunksByShard().keySet()))) {
            Set<String> unitOpen = new HashSet<>();
            unit.forEach(shard -> group.chunksByShard().get(shard).forEach(c ->
                    group.oneWrites().transactionKeys(c.block(), group.chunk(c), unitOpen)));
            Set<String> together = new HashSet<>(open);
            together.addAll(unitOpen);
            int shards = part.size() + unit.size();
            if (!part.isEmpty() && ((long) shards * perShard + together.size() > maxOps
                    || shards + fixed + together.size() > maxOps)) {
                parts.add(part);
                part = new ArrayList<>();
                together = unitOpen;
            }
            part.addAll(unit);
            open = together;
        }
        parts.add(part);
        return parts;
    }

    /**
     * {@code shards} (in ascending order) in the units they are committed in: a shard alone, or the shards holding
     * the batches of one transaction written in one write ({@link OneWriteTransaction}), and of any other such
     * transaction sharing one of them, together, since such a transaction's records and commit are one metadata
     * transaction. Units in the order of their first shard.
     */
    List<List<Integer>> units(Group group, List<Integer> shards) {
        Map<Integer, Integer> parent = new HashMap<>();
        if (!group.oneWrites().isEmpty()) {
            Map<String, Integer> firstShard = new HashMap<>();
            for (int shard : shards) {
                for (Chunk c : group.chunksByShard().get(shard)) {
                    for (ProducerBatch b : group.chunk(c).producerBatches()) {
                        String txn = group.oneWrites().of(c.block(), b);
                        if (txn != null && !group.refused().contains(txn)) {
                            Integer first = firstShard.putIfAbsent(txn, shard);
                            int a = root(parent, shard);
                            int b2 = first == null ? a : root(parent, first);
                            if (a != b2) {
                                parent.put(a, b2);
                            }
                        }
                    }
                }
            }
        }
        Map<Integer, List<Integer>> byRoot = new LinkedHashMap<>();
        for (int shard : shards) {
            byRoot.computeIfAbsent(root(parent, shard), r -> new ArrayList<>()).add(shard);
        }
        List<List<Integer>> units = new ArrayList<>(byRoot.values());
        units.sort(java.util.Comparator.comparing(u -> u.get(0)));
        return units;
    }

    /**
     * The transactions written in one write whose unit would not fit one metadata transaction: per shard a head and
     * an entry per block, a record put per such transaction, and read and guarded with them the heads, the blocks'
     * collection markers, the topic deletions, the records, the open keys of the unit's other transactional
     * batches and what a retry reads. Refused whole, so the rest of their blocks commits. Ingest nodes seal a
     * block before it would hold more ({@link OneWriteTransaction#MAX_PARTITIONS_PER_BLOCK}, {@link
     * OneWriteTransaction#MAX_PER_BLOCK}), so this is a guard, not a path.
     */
    Set<String> tooSpread(Group group) {
        if (group.oneWrites().isEmpty()) {
            return Set.of();
        }
        Map<String, Set<Integer>> shardsOf = new HashMap<>();
        group.chunksByShard().forEach((shard, chunks) -> chunks.forEach(c -> group.chunk(c).producerBatches()
                .forEach(b -> {
                    String txn = group.oneWrites().of(c.block(), b);
                    if (txn != null) {
                        shardsOf.computeIfAbsent(txn, k -> new HashSet<>()).add(shard);
                    }
                })));
        Set<String> refused = new HashSet<>();
        int blocks = group.commits().size();
        for (List<Integer> unit : units(group, List.copyOf(group.chunksByShard().keySet()))) {
            Set<Integer> inUnit = new HashSet<>(unit);
            List<String> txns = new ArrayList<>();
            shardsOf.forEach((txn, shards) -> {
                if (inUnit.containsAll(shards)) {
                    txns.add(txn);
                }
            });
            Set<String> keysRead = new HashSet<>();
            unit.forEach(shard -> group.chunksByShard().get(shard).forEach(c ->
                    group.oneWrites().transactionKeys(c.block(), group.chunk(c), keysRead)));
            long ops = (long) unit.size() * (1 + blocks) + txns.size();
            long reads = unit.size() + blocks + 1 + ShardCommitter.MAX_UNKNOWN_ATTEMPTS + 1 + keysRead.size();
            if (!txns.isEmpty() && (ops > maxOps || reads > maxOps)) {
                refused.addAll(txns);
            }
        }
        return refused;
    }

    private static int root(Map<Integer, Integer> parent, int shard) {
        int r = shard;
        while (parent.containsKey(r)) {
            r = parent.get(r);
        }
        return r;
    }
}
