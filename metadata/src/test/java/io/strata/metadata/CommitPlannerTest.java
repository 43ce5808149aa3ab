package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

/** How blocks committed together are cut into metadata transactions, within the store's limits. */
class CommitPlannerTest {
    private static final KeyLayout KEYS = new KeyLayout("/strata");
    /** Partition p of topic 1 lives in shard p: the tests name shards by the partitions they write. */
    private static final ToIntFunction<PartitionId> SHARD = PartitionId::partition;
    private static final int FIXED = 1 + 1 + ShardCommitter.MAX_UNKNOWN_ATTEMPTS + 1; // one block's reads beside heads

    @Test
    void transactionsWrittenInOneWriteBindTheirShardsAndThoseOfTransactionsSharingOneIntoOneUnit() {
        // Transaction A over partitions 1 and 3, B over 3 and 5; plain batches on 2 and 4.
        BlockCommit block = block(List.of(transactional(1, 10, 1), plain(2), shared(3), plain(4),
                transactional(5, 11, 1)), oneWrite(10, 1), oneWrite(11, 1));
        ShardCommitter.Group group = group(block);

        assertThat(planner(128).units(group, shards(group))).containsExactly(List.of(1, 3, 5), List.of(2), List.of(4));
    }

    @Test
    void aRefusedTransactionNoLongerBindsItsShards() {
        BlockCommit block = block(List.of(transactional(1, 10, 1), shared(3), transactional(5, 11, 1)),
                oneWrite(10, 1), oneWrite(11, 1));
        ShardCommitter.Group group = group(block);
        group.refused().add(group.oneWrites().of(0, 10, 1));

        assertThat(planner(128).units(group, shards(group))).containsExactly(List.of(1), List.of(3, 5));
    }

    @Test
    void aBatchOfAnotherBlocksOneWriteTransactionIsAnOrdinaryTransactionalBatch() {
        // Block 0 writes transaction (10, 1) in one write; block 1 holds a batch of it sent again (keys are per block).
        BlockCommit first = block(List.of(transactional(1, 10, 1), transactional(3, 10, 1)), oneWrite(10, 1));
        BlockCommit second = block(List.of(transactional(5, 10, 1), plain(7)));
        ShardCommitter.Group group = group(first, second);

        assertThat(planner(128).units(group, shards(group))).containsExactly(List.of(1, 3), List.of(5), List.of(7));
    }

    @Test
    void partsHoldEveryShardOnceWithinTheOperationLimitAndNeverSplitAUnit() {
        List<BlockChunk> chunks = new ArrayList<>();
        for (int p = 0; p < 30; p++) {
            chunks.add(p == 11 || p == 12 || p == 13 ? transactional(p, 10, 1) : plain(p));
        }
        ShardCommitter.Group group = group(block(chunks, oneWrite(10, 1)));
        int maxOps = 20;

        List<List<Integer>> parts = planner(maxOps).parts(group);

        assertThat(parts).hasSizeGreaterThan(1);
        assertThat(parts.stream().flatMap(List::stream).toList()).containsExactlyElementsOf(shards(group));
        assertThat(parts).filteredOn(part -> part.contains(12)).singleElement()
                .satisfies(part -> assertThat(part).contains(11, 13));
        for (List<Integer> part : parts) {
            Set<String> open = new HashSet<>();
            part.forEach(shard -> group.chunksByShard().get(shard).forEach(c ->
                    group.oneWrites().transactionKeys(c.block(), group.chunk(c), open)));
            assertThat(part.size() * 2L + open.size()).as("heads and entries of %s", part).isLessThanOrEqualTo(maxOps);
            assertThat(part.size() + FIXED + open.size()).as("what %s reads and guards", part)
                    .isLessThanOrEqualTo(maxOps);
        }
    }

    @Test
    void blocksFitTogetherOnlyWhileTheirHeadsEntriesAndGuardsStayWithinTheLimits() {
        List<BlockCommit> blocks = new ArrayList<>();
        for (int b = 0; b < 6; b++) {
            List<BlockChunk> chunks = new ArrayList<>();
            for (int p = 0; p < 10; p++) {
                chunks.add(plain(p));
            }
            blocks.add(block(chunks));
        }
        CommitPlanner planner = planner(64);

        // 10 shards, each a head and an entry per block: 10 * (1 + n) operations for n blocks.
        assertThat(planner.fitTogether(blocks.subList(0, 5))).as("10 * 6 = 60 operations").isTrue();
        assertThat(planner.fitTogether(blocks.subList(0, 6))).as("10 * 7 = 70 operations").isFalse();
        // One block of ten chunks counts about 6,700 bytes: within 10,000, but not within half of it.
        assertThat(new CommitPlanner(64, 10_000, SHARD, KEYS).fitTogether(blocks.subList(0, 1)))
                .as("over half the byte limit").isFalse();
        assertThat(new CommitPlanner(64, 14_000, SHARD, KEYS).fitTogether(blocks.subList(0, 1)))
                .as("within half of it").isTrue();
    }

    @Test
    void aTransactionSpreadOverMoreShardsThanOneMetadataTransactionHoldsIsRefusedWholeAndTheRestStands() {
        List<BlockChunk> chunks = new ArrayList<>();
        for (int p = 0; p < 14; p++) {
            chunks.add(transactional(p, 10, 1));
        }
        chunks.add(transactional(20, 11, 1)); // narrow: one shard
        ShardCommitter.Group group = group(block(chunks, oneWrite(10, 1), oneWrite(11, 1)));
        // The spread one writes 14 heads, 14 entries and its record (29 operations) and reads 14 heads, the block's
        // marker, the deletions, its record and what a retry reads (26): its writes alone are over 28.
        assertThat(planner(28).tooSpread(group)).containsExactly(group.oneWrites().of(0, 10, 1));
        assertThat(planner(29).tooSpread(group)).isEmpty();
    }

    private static CommitPlanner planner(int maxOps) {
        return new CommitPlanner(maxOps, 1_500_000, SHARD, KEYS);
    }

    private static ShardCommitter.Group group(BlockCommit... blocks) {
        return ShardCommitter.Group.of(List.of(blocks), SHARD, KEYS, Long.MAX_VALUE);
    }

    private static List<Integer> shards(ShardCommitter.Group group) {
        return List.copyOf(group.chunksByShard().keySet());
    }

    private static int objects;

    private static BlockCommit block(List<BlockChunk> chunks, OneWriteTransaction... oneWrites) {
        return new BlockCommit("blocks/" + ++objects, 1_000, chunks, List.of(oneWrites));
    }

    private static BlockChunk plain(int partition) {
        return chunk(partition, List.of());
    }

    private static BlockChunk transactional(int partition, long producerId, long txnEpoch) {
        return chunk(partition, List.of(new ProducerBatch(producerId, 0, 0, 1, txnEpoch)));
    }

    /** A chunk of partition {@code partition} holding a batch of transaction A (10, 1) and one of B (11, 1). */
    private static BlockChunk shared(int partition) {
        return chunk(partition, List.of(new ProducerBatch(10, 0, 0, 1, 1), new ProducerBatch(11, 0, 1, 1, 1)));
    }

    private static BlockChunk chunk(int partition, List<ProducerBatch> batches) {
        return new BlockChunk(new PartitionId(1, partition), batches.isEmpty() ? 1 : batches.size(), 0, 10, 10, 0, 0,
                0, batches);
    }

    private static OneWriteTransaction oneWrite(long producerId, long txnEpoch) {
        return new OneWriteTransaction("txn-" + producerId, producerId, txnEpoch, 1, new byte[16]);
    }
}
