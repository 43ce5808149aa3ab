package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link MetadataStore} must do; the embedded store and etcd run the same tests. Subclasses say
 * how to open a store (fresh per test) and how to open it again over the same data.
 */
public abstract class MetadataStoreContract {
    protected MetadataStore store;
    private final AtomicInteger objects = new AtomicInteger();

    /** A store over fresh, empty metadata with {@code shards} shards. */
    protected abstract MetadataStore newStore(int shards);

    /** The same metadata opened again (a restart), asking for {@code shards}. */
    protected abstract MetadataStore reopen(int shards);

    @BeforeEach
    void open() {
        store = newStore(16);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    private static Throwable cause(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    private BlockCommit block(PartitionId... partitions) {
        return block(3, partitions);
    }

    private BlockCommit block(int records, PartitionId... partitions) {
        List<BlockChunk> chunks = new ArrayList<>();
        long offset = 8;
        for (PartitionId p : partitions) {
            chunks.add(new BlockChunk(p, records, offset, 100, 300, 1_000, 2_000, 0xC0FFEE));
            offset += 100;
        }
        return new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), offset + 100, chunks);
    }

    @Test
    void aShardsLedgerIsHeldOnceItsEndsWereReadOrItWasCommittedTo() {
        Topic t = store.createTopic(new TopicConfig("held", 16, -1, -1)).join();
        PartitionId read = t.partition(0);
        PartitionId committed = java.util.stream.IntStream.range(1, 16).mapToObj(t::partition)
                .filter(p -> store.shardOf(p) != store.shardOf(read)).findFirst().orElseThrow();
        assertThat(store.holdsLedger(store.shardOf(read))).as("nothing read yet").isFalse();
        assertThat(store.holdsLedger(store.shardOf(committed))).isFalse();
        store.offsets(List.of(read)).join();
        assertThat(store.holdsLedger(store.shardOf(read))).isTrue();
        assertThat(store.holdsLedger(store.shardOf(committed))).as("another shard").isFalse();
        store.commitBlock(block(committed)).join();
        assertThat(store.holdsLedger(store.shardOf(committed))).isTrue();
    }

    @Test
    void halfMessagesStatesChangeOnlyUnderTheirGuardsAndProducerRegistrationsEndWhenClosed() throws Exception {
        io.strata.metadata.half.HalfStore halves = store.halves();
        PartitionId p = new PartitionId(9, 1);
        byte[] scan = {1};
        // A first scan, and two states, all at once.
        assertThat(halves.apply(p, 0, scan, List.of(new io.strata.metadata.half.HalfStore.Change(3, new byte[] {3}, 0),
                new io.strata.metadata.half.HalfStore.Change(12, new byte[] {12}, 0))).join()).isPresent();
        long scanRevision = halves.scan(p).join().orElseThrow().revision();
        // A guard that no longer holds (state 3 exists) changes nothing, the scan included.
        assertThat(halves.apply(p, scanRevision, new byte[] {2},
                List.of(new io.strata.metadata.half.HalfStore.Change(3, new byte[] {4}, 0))).join()).isEmpty();
        assertThat(halves.scan(p).join().orElseThrow().value()).containsExactly(1);
        var three = halves.message(p, 3).join().orElseThrow();
        assertThat(halves.apply(p, -1, null, List.of(new io.strata.metadata.half.HalfStore.Change(3, new byte[] {5},
                three.revision()))).join()).isPresent();
        assertThat(halves.message(p, 3).join().orElseThrow().value()).containsExactly(5);
        // A write guarded on the scan fails once the scan moved.
        long written = halves.apply(p, scanRevision, new byte[] {6}, List.of()).join().orElseThrow();
        assertThat(halves.scan(p).join().orElseThrow().revision()).as("the revision answered is the one written")
                .isEqualTo(written);
        assertThat(halves.apply(p, scanRevision, null,
                List.of(new io.strata.metadata.half.HalfStore.Change(20, new byte[] {20}, 0))).join()).isEmpty();
        assertThat(halves.messages().join()).extracting(io.strata.metadata.half.HalfStore.Message::offset)
                .as("in offset order, not text order").containsExactly(3L, 12L);
        assertThat(halves.messages(p, 4, 13).join()).extracting(io.strata.metadata.half.HalfStore.Message::offset)
                .containsExactly(12L);
        assertThat(halves.scans().join()).containsOnlyKeys(p);
        var twelve = halves.message(p, 12).join().orElseThrow();
        assertThat(halves.apply(p, -1, null, List.of(new io.strata.metadata.half.HalfStore.Change(12, null,
                twelve.revision()))).join()).isPresent();
        assertThat(halves.message(p, 12).join()).isEmpty();
        assertThat(halves.deleteScan(p, halves.scan(p).join().orElseThrow().revision()).join()).isTrue();

        io.strata.metadata.half.HalfStore.Registration a = halves.registerProducer("shop", "node-a",
                java.time.Duration.ofSeconds(5)).join();
        io.strata.metadata.half.HalfStore.Registration b = halves.registerProducer("shop", "node-b",
                java.time.Duration.ofSeconds(5)).join();
        assertThat(halves.producerNodes("shop").join()).containsExactlyInAnyOrder("node-a", "node-b");
        assertThat(halves.producerNodes("shop-2").join()).isEmpty();
        a.close();
        assertThat(halves.producerNodes("shop").join()).containsExactly("node-b");
        b.close();
        assertThat(halves.producerNodes("shop").join()).isEmpty();
    }

    @Test
    void topicsGetIdsThatAreNeverReusedAndNamesAreUnique() {
        Topic a = store.createTopic(new TopicConfig("orders", 3, 60_000, -1)).join();
        Topic b = store.createTopic(new TopicConfig("events", 1, -1, 1 << 20)).join();
        assertThat(a.topicId()).isNotEqualTo(b.topicId());
        assertThat(a.partitions()).isEqualTo(3);
        assertThat(a.retentionMs()).isEqualTo(60_000);
        assertThatThrownBy(() -> store.createTopic(new TopicConfig("orders", 5, -1, -1)).join())
                .satisfies(e -> assertThat(cause(e)).isInstanceOf(TopicExistsException.class));
        assertThat(store.getTopic("orders").join()).contains(a);
        assertThat(store.listTopics().join()).extracting(Topic::name).containsExactly("events", "orders");

        assertThat(store.deleteTopic("orders").join()).isTrue();
        assertThat(store.deleteTopic("orders").join()).isFalse();
        assertThat(store.getTopic("orders").join()).isEmpty();
        Topic again = store.createTopic(new TopicConfig("orders", 2, -1, -1)).join();
        assertThat(again.topicId()).isNotIn(a.topicId(), b.topicId());
    }

    @Test
    void concurrentTopicCreationsOfOneNameLetExactlyOneWin() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(6);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> outcomes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            outcomes.add(pool.submit(() -> {
                go.await();
                try {
                    store.createTopic(new TopicConfig("contended", 2, -1, -1)).join();
                    return true;
                } catch (CompletionException e) {
                    assertThat(cause(e)).isInstanceOf(TopicExistsException.class);
                    return false;
                }
            }));
        }
        go.countDown();
        int created = 0;
        for (Future<Boolean> f : outcomes) {
            created += f.get(30, TimeUnit.SECONDS) ? 1 : 0;
        }
        pool.shutdown();
        assertThat(created).isEqualTo(1);
    }

    @Test
    void aCommitAssignsConsecutiveOffsetsPerPartitionAndAdvancesTheirEnds() {
        Topic t = store.createTopic(new TopicConfig("t", 3, -1, -1)).join();
        List<ChunkCommit> first = store.commitBlock(block(t.partition(0), t.partition(2))).join();
        assertThat(first).extracting(ChunkCommit::partition).containsExactly(t.partition(0), t.partition(2));
        assertThat(first).extracting(ChunkCommit::baseOffset).containsExactly(0L, 0L);
        List<ChunkCommit> second = store.commitBlock(block(t.partition(2), t.partition(0), t.partition(1))).join();
        assertThat(second).extracting(ChunkCommit::baseOffset).containsExactly(3L, 3L, 0L);
        assertThat(store.offsets(t.partition(0)).join().nextOffset()).isEqualTo(6);
        assertThat(store.offsets(t.partition(1)).join().nextOffset()).isEqualTo(3);
        assertThat(store.offsets(t.partition(1)).join().logStartOffset()).isZero();
        PartitionId never = new PartitionId(t.topicId() + 1000, 0);
        assertThat(store.offsets(never).join()).isEqualTo(new PartitionOffsets(never, 0, 0));
    }

    @Test
    void aChunkOfADeletedOrRecreatedTopicIsRefusedWhileTheRestOfItsBlockCommits() {
        Topic old = store.createTopic(new TopicConfig("recreated", 2, -1, -1)).join();
        Topic kept = store.createTopic(new TopicConfig("kept", 1, -1, -1)).join();
        store.commitBlock(block(old.partition(0), kept.partition(0))).join(); // the commit knows both topics
        assertThat(store.deleteTopic("recreated").join()).isTrue();
        Topic again = store.createTopic(new TopicConfig("recreated", 2, -1, -1)).join();
        long producer = store.allocateProducerId().join();
        BlockCommit mixed = new BlockCommit("wal/00/mixed", 1_000, List.of(
                new BlockChunk(old.partition(0), 4, 8, 100, 300, 1_000, 2_000, 7,
                        List.of(new ProducerBatch(producer, 0, 0, 2))),
                new BlockChunk(again.partition(0), 2, 108, 100, 300, 1_000, 2_000, 7),
                new BlockChunk(kept.partition(0), 5, 208, 100, 300, 1_000, 2_000, 7)));

        List<ChunkCommit> answers = store.commitBlock(mixed).join();

        assertThat(answers.get(0).refusal()).isNotNull()
                .extracting(BatchOutcome.Rejected::reason).isEqualTo(BatchOutcome.Reason.TOPIC_DELETED);
        assertThat(answers.get(0).recordCount()).isZero();
        assertThat(answers.get(0).batches()).singleElement().isInstanceOf(BatchOutcome.Rejected.class);
        assertThat(answers.get(1).refusal()).isNull();
        assertThat(answers.get(1).baseOffset()).isZero();
        assertThat(answers.get(2).baseOffset()).isEqualTo(3);
        assertThat(store.offsets(old.partition(0)).join().nextOffset()).as("a deleted topic has no offsets").isZero();
        assertThat(store.offsets(again.partition(0)).join().nextOffset()).isEqualTo(2);
        assertThat(store.readIndex().join().entries()).flatExtracting(IndexEntry::chunks)
                .filteredOn(c -> c.objectKey().equals("wal/00/mixed")).extracting(ChunkRef::partition)
                .containsExactlyInAnyOrder(again.partition(0), kept.partition(0));
    }

    @Test
    void aBlockOfOnlyADeletedTopicIsRefusedWhole() {
        Topic gone = store.createTopic(new TopicConfig("gone", 1, -1, -1)).join();
        store.deleteTopic("gone").join();
        ChunkCommit answer = store.commitBlock(block(gone.partition(0))).join().get(0);
        assertThat(answer.refusal()).isNotNull();
        assertThat(store.readIndex().join().entries()).isEmpty();
    }

    @Test
    void concurrentCommitsKeepOffsetsDenseWithNoGapsOrDuplicates() throws Exception {
        Topic t = store.createTopic(new TopicConfig("dense", 4, -1, -1)).join();
        int writers = 8;
        int commitsEach = 40;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        ConcurrentLinkedQueue<ChunkCommit> assigned = new ConcurrentLinkedQueue<>();
        List<Future<?>> done = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            done.add(pool.submit(() -> {
                for (int i = 0; i < commitsEach; i++) {
                    // Every block touches partition 0; others vary, so writers conflict on shard heads.
                    PartitionId other = t.partition(1 + (writer + i) % 3);
                    assigned.addAll(store.commitBlock(block(1 + (i % 5), t.partition(0), other)).join());
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        Map<PartitionId, List<ChunkCommit>> byPartition = new HashMap<>();
        assigned.forEach(r -> byPartition.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(r));
        for (var entry : byPartition.entrySet()) {
            List<ChunkCommit> ranges = entry.getValue();
            ranges.sort(Comparator.comparingLong(ChunkCommit::baseOffset));
            long next = 0;
            for (ChunkCommit r : ranges) {
                assertThat(r.baseOffset()).as("dense offsets of %s", entry.getKey()).isEqualTo(next);
                next = r.endOffset();
            }
            assertThat(store.offsets(entry.getKey()).join().nextOffset()).isEqualTo(next);
        }
        assertThat(byPartition.get(t.partition(0))).hasSize(writers * commitsEach);
        // The index agrees with the answers: every committed chunk is indexed once, at its offsets.
        Map<PartitionId, Set<Long>> indexed = new HashMap<>();
        for (IndexEntry e : store.readIndex().join().entries()) {
            for (ChunkRef c : e.chunks()) {
                assertThat(indexed.computeIfAbsent(c.partition(), p -> new HashSet<>()).add(c.baseOffset())).isTrue();
            }
        }
        assigned.forEach(r -> assertThat(indexed.get(r.partition())).contains(r.baseOffset()));
        assertThat(indexed.values().stream().mapToInt(Set::size).sum()).isEqualTo(assigned.size());
    }

    /** The partitions of a new topic in a fresh store of {@code shards} shards. */
    private PartitionId[] widePartitions(String name, int count, int shards) {
        store.close();
        store = newStore(shards);
        Topic t = store.createTopic(new TopicConfig(name, count, -1, -1)).join();
        PartitionId[] all = new PartitionId[count];
        for (int p = 0; p < all.length; p++) {
            all[p] = t.partition(p);
        }
        return all;
    }

    @Test
    void aBlockTouchingMoreShardsThanOneTransactionHoldsIsCommittedWhole() {
        PartitionId[] all = widePartitions("wide", 1_000, 512);
        Set<Integer> shards = new HashSet<>();
        for (PartitionId p : all) {
            shards.add(store.shardOf(p));
        }
        assertThat(shards.size()).as("the block spans several transactions' worth of shards").isGreaterThan(128);
        List<ChunkCommit> first = store.commitBlock(block(2, all)).join();
        List<ChunkCommit> second = store.commitBlock(block(2, all)).join();
        for (int p = 0; p < all.length; p++) {
            assertThat(first.get(p).partition()).isEqualTo(all[p]);
            assertThat(first.get(p).baseOffset()).isZero();
            assertThat(second.get(p).baseOffset()).isEqualTo(2);
        }
        assertThat(store.offsets(all[999]).join().nextOffset()).isEqualTo(4);
        long entries = store.readIndex().join().entries().stream().filter(e -> e.objectKey().equals(
                "wal/00/obj-" + (objects.get() - 1))).count();
        assertThat(entries).as("one index entry per shard touched").isEqualTo(shards.size());
    }

    @Test
    void blocksCommittedTogetherGetOffsetsInTheirOrderWithOneTransactionAndAnEntryEach() {
        Topic t = store.createTopic(new TopicConfig("together", 4, -1, -1)).join();
        BlockCommit one = block(t.partition(0), t.partition(1));
        BlockCommit two = block(4, t.partition(1), t.partition(2), t.partition(3));
        BlockCommit three = block(5, t.partition(0), t.partition(3));
        long transactions = store.stats().commitTransactions();

        List<List<ChunkCommit>> answers = store.commitBlocks(List.of(one, two, three)).join();

        assertThat(store.stats().commitTransactions() - transactions).as("one transaction for the three").isEqualTo(1);
        assertThat(answers).hasSize(3);
        assertThat(answers.get(0)).extracting(ChunkCommit::baseOffset).containsExactly(0L, 0L);
        assertThat(answers.get(1)).extracting(ChunkCommit::baseOffset).containsExactly(3L, 0L, 0L);
        assertThat(answers.get(2)).extracting(ChunkCommit::baseOffset).containsExactly(3L, 4L);
        List<ChunkCommit> after = store.commitBlock(block(t.partition(0), t.partition(1), t.partition(3))).join();
        assertThat(after).extracting(ChunkCommit::baseOffset).containsExactly(8L, 7L, 9L);
        IndexSnapshot index = store.readIndex().join();
        for (int p = 0; p < 4; p++) {
            PartitionId partition = t.partition(p);
            List<ChunkRef> chunks = index.entries().stream().flatMap(e -> e.chunks().stream())
                    .filter(c -> c.partition().equals(partition)).sorted(Comparator.comparingLong(ChunkRef::baseOffset))
                    .toList();
            long next = 0;
            for (ChunkRef c : chunks) {
                assertThat(c.baseOffset()).as("partition %d dense", p).isEqualTo(next);
                next += c.recordCount();
            }
        }
        assertThat(index.entries().stream().filter(e -> e.objectKey().equals(two.objectKey()))
                .flatMap(e -> e.chunks().stream()).map(ChunkRef::partition))
                .as("each block keeps its own entries, naming its object")
                .containsExactlyInAnyOrder(t.partition(1), t.partition(2), t.partition(3));
    }

    @Test
    void aRetryInALaterBlockOfTheSameCommitIsAnsweredWithTheEarlierBlocksOffsets() {
        Topic t = store.createTopic(new TopicConfig("idem-together", 1, -1, -1)).join();
        long producer = store.allocateProducerId().join();
        PartitionId p = t.partition(0);

        List<List<ChunkCommit>> answers = store.commitBlocks(List.of(idempotent(p, producer, 0, 4),
                idempotent(p, producer, 0, 4), idempotent(p, producer, 4, 2), idempotent(p, producer, 9, 1))).join();

        assertThat(answers.get(0).get(0).batches()).containsExactly(new BatchOutcome.Appended(0));
        assertThat(answers.get(1).get(0).batches()).containsExactly(new BatchOutcome.Duplicate(0));
        assertThat(answers.get(2).get(0).batches()).containsExactly(new BatchOutcome.Appended(4));
        assertThat(answers.get(3).get(0).batches().get(0)).isInstanceOf(BatchOutcome.Rejected.class);
        assertThat(store.offsets(p).join().nextOffset()).isEqualTo(6);
        assertThat(store.commitBlock(idempotent(p, producer, 4, 2)).join().get(0).batches())
                .as("later commits know the batches of its later blocks")
                .containsExactly(new BatchOutcome.Duplicate(4));
        assertThat(store.commitBlock(idempotent(p, producer, 6, 1)).join().get(0).batches())
                .containsExactly(new BatchOutcome.Appended(6));
    }

    @Test
    void blocksThatDoNotFitInOneTransactionTogetherAreCommittedAsAFirstRunThatDoes() {
        // Partitions of 40 shards: two blocks over them fit in one transaction (40 heads + 80 entries, within
        // 128 ops), three do not.
        List<PartitionId> spread = new ArrayList<>();
        Set<Integer> shards = new HashSet<>();
        for (PartitionId p : widePartitions("wide-together", 400, 64)) {
            if (shards.size() < 40 && shards.add(store.shardOf(p))) {
                spread.add(p);
            }
        }
        assertThat(shards).hasSize(40);
        PartitionId[] all = spread.toArray(PartitionId[]::new);
        List<BlockCommit> blocks = List.of(block(all), block(all), block(all));

        List<List<ChunkCommit>> first = store.commitBlocks(blocks).join();
        List<List<ChunkCommit>> rest = store.commitBlocks(blocks.subList(first.size(), blocks.size())).join();

        assertThat(first).as("the first two, which fit together").hasSize(2);
        assertThat(rest).hasSize(1);
        List<List<ChunkCommit>> answers = new ArrayList<>(first);
        answers.addAll(rest);
        for (int b = 0; b < 3; b++) {
            for (int p = 0; p < all.length; p++) {
                assertThat(answers.get(b).get(p).baseOffset()).isEqualTo(3L * b);
            }
        }
    }

    @Test
    void theIndexHoldsEachShardsEntriesInCommitOrderWithChunkDetails() {
        Topic t = store.createTopic(new TopicConfig("idx", 2, -1, -1)).join();
        BlockCommit one = block(t.partition(0));
        BlockCommit two = block(t.partition(0), t.partition(1));
        store.commitBlock(one).join();
        store.commitBlock(two).join();
        IndexSnapshot snapshot = store.readIndex().join();
        List<ChunkRef> p0 = snapshot.entries().stream().flatMap(e -> e.chunks().stream())
                .filter(c -> c.partition().equals(t.partition(0))).toList();
        assertThat(p0).extracting(ChunkRef::objectKey).containsExactly(one.objectKey(), two.objectKey());
        assertThat(p0).extracting(ChunkRef::baseOffset).containsExactly(0L, 3L);
        ChunkRef c = p0.get(1);
        BlockChunk sent = two.chunks().get(0);
        assertThat(c.byteOffset()).isEqualTo(sent.byteOffset());
        assertThat(c.byteLength()).isEqualTo(sent.byteLength());
        assertThat(c.uncompressedLength()).isEqualTo(sent.uncompressedLength());
        assertThat(c.crc32c()).isEqualTo(sent.crc32c());
        assertThat(c.minTimestampMs()).isEqualTo(1_000);
        assertThat(c.maxTimestampMs()).isEqualTo(2_000);
        for (IndexEntry e : snapshot.entries()) {
            assertThat(e.shard()).isEqualTo(store.shardOf(e.chunks().get(0).partition()));
        }
    }

    @Test
    void oneShardsIndexIsReadByRangeAndAWatchFromTheRevisionSeesLaterCommits() throws Exception {
        Topic t = store.createTopic(new TopicConfig("by-shard", 16, -1, -1)).join();
        PartitionId a = t.partition(0);
        PartitionId b = java.util.stream.IntStream.range(1, 16).mapToObj(t::partition)
                .filter(p -> store.shardOf(p) != store.shardOf(a)).findFirst().orElseThrow();
        store.commitBlock(block(a)).join();
        store.commitBlock(block(b)).join();
        store.commitBlock(block(a, b)).join();
        IndexSnapshot shardOfA = store.readIndex(store.shardOf(a)).join();
        assertThat(shardOfA.entries()).hasSize(2).allMatch(e -> e.shard() == store.shardOf(a));
        assertThat(shardOfA.entries().stream().flatMap(e -> e.chunks().stream()).map(ChunkRef::partition))
                .allMatch(p -> store.shardOf(p) == store.shardOf(a));
        long revision = store.revision().join();
        assertThat(revision).isGreaterThanOrEqualTo(shardOfA.revision());
        java.util.concurrent.LinkedBlockingQueue<IndexEntry> seen = new java.util.concurrent.LinkedBlockingQueue<>();
        try (AutoCloseable watch = store.watchIndex(revision, new IndexListener() {
            @Override
            public void onEntry(IndexEntry entry) {
                seen.add(entry);
            }

            @Override
            public void onReset(Throwable cause) {
            }
        })) {
            BlockCommit later = block(b);
            store.commitBlock(later).join();
            IndexEntry entry = seen.poll(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(entry).isNotNull();
            assertThat(entry.objectKey()).isEqualTo(later.objectKey());
            assertThat(seen.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS)).as("nothing from before").isNull();
        }
    }

    private BlockCommit idempotent(PartitionId partition, long producerId, long baseSequence, int records) {
        return new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 500, List.of(new BlockChunk(partition,
                records, 8, 100, 300, 1_000, 2_000, 7, List.of(new ProducerBatch(producerId, baseSequence, 0,
                records)))));
    }

    @Test
    void producerIdsAreNeverIssuedTwice() {
        long a = store.allocateProducerId().join();
        long b = store.allocateProducerId().join();
        assertThat(a).isPositive();
        assertThat(b).isGreaterThan(a);
        assertThat(store.lastProducerId().join()).isEqualTo(b);
    }

    @Test
    void aRetriedIdempotentBatchGetsTheOriginalOffsetsAndIsStoredOnce() {
        Topic t = store.createTopic(new TopicConfig("idem", 1, -1, -1)).join();
        long producer = store.allocateProducerId().join();
        ChunkCommit first = store.commitBlock(idempotent(t.partition(0), producer, 0, 4)).join().get(0);
        assertThat(first.batches()).containsExactly(new BatchOutcome.Appended(0));
        ChunkCommit retry = store.commitBlock(idempotent(t.partition(0), producer, 0, 4)).join().get(0);
        assertThat(retry.batches()).containsExactly(new BatchOutcome.Duplicate(0));
        assertThat(retry.recordCount()).isZero();
        ChunkCommit next = store.commitBlock(idempotent(t.partition(0), producer, 4, 2)).join().get(0);
        assertThat(next.batches()).containsExactly(new BatchOutcome.Appended(4));
        assertThat(store.offsets(t.partition(0)).join().nextOffset()).isEqualTo(6);
        assertThat(store.readIndex().join().entries()).hasSize(2); // the retry wrote no index entry
    }

    @Test
    void aPartitionsProducersAreDescribedAsItsCommitsCheckThemOnThisStoreAndAfterARestart() {
        Topic t = store.createTopic(new TopicConfig("described", 2, -1, -1)).join();
        long a = store.allocateProducerId().join();
        long b = store.allocateProducerId().join();
        assertThat(store.producers(List.of(t.partition(0))).get(t.partition(0)).join()).as("no producer yet").isEmpty();
        store.commitBlock(idempotent(t.partition(0), a, 0, 4)).join();
        store.commitBlock(idempotent(t.partition(0), a, 4, 2)).join();
        store.commitBlock(idempotent(t.partition(0), b, 0, 3)).join();
        store.commitBlock(idempotent(t.partition(1), b, 0, 1)).join();

        var both = store.producers(List.of(t.partition(0), t.partition(1)));
        assertThat(both.get(t.partition(0)).join()).extracting(ProducerState::producerId,
                ProducerState::lastSequence).containsExactly(org.assertj.core.groups.Tuple.tuple(a, 5L),
                org.assertj.core.groups.Tuple.tuple(b, 2L));
        assertThat(both.get(t.partition(1)).join()).extracting(ProducerState::producerId).containsExactly(b);
        store.close();
        store = reopen(16);
        assertThat(store.producers(List.of(t.partition(0))).get(t.partition(0)).join())
                .as("read from the shard by a store that never committed to it")
                .extracting(ProducerState::producerId, ProducerState::lastSequence)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(a, 5L), org.assertj.core.groups.Tuple.tuple(b, 2L));
        assertThat(store.stats().producerStates()).as("and not kept by it").isZero();
    }

    @Test
    void aTransactionalBatchIsStoredOnlyWhileItsTransactionIsOpen() {
        Topic t = store.createTopic(new TopicConfig("txn-open", 1, -1, -1)).join();
        long producer = store.allocateProducerId().join();
        long epoch = (1L << 32) | 1;
        io.strata.metadata.txn.TransactionStore.Open txn = new io.strata.metadata.txn.TransactionStore.Open(producer,
                epoch);
        assertThat(store.commitBlock(transactional(t.partition(0), producer, epoch, 0, 3)).join().get(0).batches())
                .as("never opened").singleElement().isInstanceOfSatisfying(BatchOutcome.Rejected.class,
                        r -> assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.TRANSACTION_NOT_OPEN));
        long revision = store.transactions().save("w", new byte[] {1}, 0, null, txn).join().orElseThrow();
        assertThat(store.transactions().isOpen(txn).join()).isTrue();
        assertThat(store.commitBlock(transactional(t.partition(0), producer, epoch, 0, 3)).join().get(0).batches())
                .containsExactly(new BatchOutcome.Appended(0));
        store.transactions().save("w", new byte[] {2}, revision, txn, null).join().orElseThrow();
        assertThat(store.transactions().isOpen(txn).join()).as("ended with its record").isFalse();
        ChunkCommit straggler = store.commitBlock(transactional(t.partition(0), producer, epoch, 3, 2)).join().get(0);
        assertThat(straggler.batches()).singleElement().isInstanceOfSatisfying(BatchOutcome.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.TRANSACTION_NOT_OPEN));
        assertThat(store.offsets(t.partition(0)).join().nextOffset()).isEqualTo(3);
    }

    @Test
    void aBlockWithBatchesOfMoreOpenTransactionsThanOneMetadataTransactionGuardsIsCommittedInRunsOfShards() {
        Topic t = store.createTopic(new TopicConfig("many-txns", 16, -1, -1)).join();
        // Two partitions of different shards, each written by 100 open transactions: 200 guards in all.
        PartitionId a = t.partition(0);
        PartitionId b = java.util.stream.IntStream.range(1, 16).mapToObj(t::partition)
                .filter(p -> store.shardOf(p) != store.shardOf(a)).findFirst().orElseThrow();
        long epoch = (1L << 32) | 1;
        List<BlockChunk> chunks = new ArrayList<>();
        for (PartitionId p : List.of(a, b)) {
            List<ProducerBatch> batches = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                long producer = store.allocateProducerId().join();
                store.transactions().save("many-" + producer, new byte[] {1}, 0, null,
                        new io.strata.metadata.txn.TransactionStore.Open(producer, epoch)).join().orElseThrow();
                batches.add(new ProducerBatch(producer, 0, i, 1, epoch));
            }
            chunks.add(new BlockChunk(p, 100, 8 + chunks.size() * 100L, 100, 300, 1_000, 2_000, 7, batches));
        }
        List<ChunkCommit> commits = store.commitBlock(new BlockCommit("wal/00/obj-" + objects.incrementAndGet(),
                500, chunks)).join();
        assertThat(commits).allSatisfy(c -> assertThat(c.batches()).hasSize(100)
                .allMatch(o -> o instanceof BatchOutcome.Appended));
        assertThat(store.offsets(a).join().nextOffset()).isEqualTo(100);
        assertThat(store.offsets(b).join().nextOffset()).isEqualTo(100);
    }

    /** A transactional id's record as the transactions store keeps it, READY (no transaction open): its revision. */
    private long ready(String transactionalId, byte[] record) {
        return store.transactions().save(transactionalId, record, 0, null, null).join().orElseThrow();
    }

    private static BlockChunk transactionalChunk(PartitionId partition, long producerId, long epoch, long baseSequence,
                                                 int records) {
        return new BlockChunk(partition, records, 8, 100, 300, 1_000, 2_000, 7, List.of(new ProducerBatch(producerId,
                baseSequence, 0, records, epoch)));
    }

    /** Two partitions of the topic in different metadata shards, the lower shard first. */
    private List<PartitionId> inShards(Topic t, int count) {
        java.util.TreeMap<Integer, PartitionId> byShard = new java.util.TreeMap<>();
        for (int p = 0; p < t.partitions(); p++) {
            byShard.putIfAbsent(store.shardOf(t.partition(p)), t.partition(p));
        }
        assertThat(byShard).hasSizeGreaterThanOrEqualTo(count);
        return new ArrayList<>(byShard.values()).subList(0, count);
    }

    @Test
    void aTransactionInOneWriteIsStoredWithItsCommittedRecordOnceAndNotAfterItsRecordMoved() {
        Topic t = store.createTopic(new TopicConfig("one-write", 16, -1, -1)).join();
        List<PartitionId> two = inShards(t, 2);
        long producer = store.allocateProducerId().join();
        long epoch = (1L << 32) | 1;
        long read = ready("ow", new byte[] {1});
        OneWriteTransaction txn = new OneWriteTransaction("ow", producer, epoch, read, new byte[] {9});
        BlockCommit block = new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 500, List.of(
                transactionalChunk(two.get(0), producer, epoch, 0, 3),
                transactionalChunk(two.get(1), producer, epoch, 0, 2)), List.of(txn));
        assertThat(store.commitBlock(block).join()).allSatisfy(c -> assertThat(c.batches()).singleElement()
                .isInstanceOf(BatchOutcome.Appended.class));
        io.strata.metadata.txn.TransactionStore.Stored after = store.transactions().load("ow").join().orElseThrow();
        assertThat(after.record()).as("committed with its records").containsExactly(9);
        assertThat(after.revision()).isGreaterThan(read);
        assertThat(store.transactions().isOpen(new io.strata.metadata.txn.TransactionStore.Open(producer, epoch))
                .join()).as("never open").isFalse();

        // Sent again (its answer lost): duplicates, and the record is not written again.
        BlockCommit again = new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 500, block.chunks(),
                List.of(txn));
        assertThat(store.commitBlock(again).join()).allSatisfy(c -> assertThat(c.batches()).singleElement()
                .isInstanceOf(BatchOutcome.Duplicate.class));
        assertThat(store.transactions().load("ow").join().orElseThrow().revision()).isEqualTo(after.revision());

        // The next transaction, decided on a record that moved since (a newer producer took over): nothing stored.
        store.transactions().save("ow", new byte[] {7}, after.revision(), null, null).join().orElseThrow();
        OneWriteTransaction stale = new OneWriteTransaction("ow", producer, epoch + 1, after.revision(),
                new byte[] {10});
        List<ChunkCommit> fenced = store.commitBlock(new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 500,
                List.of(transactionalChunk(two.get(0), producer, epoch + 1, 3, 1),
                        transactionalChunk(two.get(1), producer, epoch + 1, 2, 1)), List.of(stale))).join();
        assertThat(fenced).allSatisfy(c -> assertThat(c.batches()).singleElement()
                .isInstanceOfSatisfying(BatchOutcome.Rejected.class,
                        r -> assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.TRANSACTION_NOT_OPEN)));
        assertThat(store.transactions().load("ow").join().orElseThrow().record()).containsExactly(7);
        assertThat(store.offsets(two.get(0)).join().nextOffset()).isEqualTo(3);
        assertThat(store.offsets(two.get(1)).join().nextOffset()).isEqualTo(2);
    }

    @Test
    void aTransactionChainedToOneStillOnItsWayIsStoredAfterItAndNeverWithoutIt() {
        Topic t = store.createTopic(new TopicConfig("one-write-chain", 16, -1, -1)).join();
        List<PartitionId> two = inShards(t, 2);
        long producer = store.allocateProducerId().join();
        long epoch = (1L << 32) | 1;
        OneWriteTransaction first = new OneWriteTransaction("owc", producer, epoch, ready("owc", new byte[] {1}),
                new byte[] {9});
        OneWriteTransaction next = OneWriteTransaction.chainedTo(first, epoch + 1, new byte[] {10});
        BlockCommit firstBlock = new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 500, List.of(
                transactionalChunk(two.get(0), producer, epoch, 0, 3),
                transactionalChunk(two.get(1), producer, epoch, 0, 2)), List.of(first));
        BlockCommit nextBlock = new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 500, List.of(
                transactionalChunk(two.get(0), producer, epoch + 1, 3, 1)), List.of(next));

        // Uploaded together, committed one after the other: the chained one stands on the record its predecessor wrote.
        List<List<ChunkCommit>> both = new ArrayList<>();
        while (both.size() < 2) {
            both.addAll(store.commitBlocks(List.of(firstBlock, nextBlock).subList(both.size(), 2)).join());
        }
        assertThat(both.get(0)).allSatisfy(c -> assertThat(c.batches()).singleElement()
                .isInstanceOf(BatchOutcome.Appended.class));
        assertThat(both.get(1).get(0).batches()).containsExactly(new BatchOutcome.Appended(3));
        assertThat(store.transactions().load("owc").join().orElseThrow().record()).containsExactly(10);

        // Its predecessor not stored (decided on a record that moved since): the chained one is not stored either.
        io.strata.metadata.txn.TransactionStore.Stored now = store.transactions().load("owc").join().orElseThrow();
        OneWriteTransaction stale = new OneWriteTransaction("owc", producer, epoch + 2, now.revision(),
                new byte[] {11});
        OneWriteTransaction afterStale = OneWriteTransaction.chainedTo(stale, epoch + 3, new byte[] {12});
        store.transactions().save("owc", new byte[] {7}, now.revision(), null, null).join().orElseThrow();
        for (var pair : List.of(List.of(stale, 4L), List.of(afterStale, 4L))) {
            OneWriteTransaction txn = (OneWriteTransaction) pair.get(0);
            List<ChunkCommit> refused = store.commitBlock(new BlockCommit("wal/00/obj-" + objects.incrementAndGet(),
                    500, List.of(transactionalChunk(two.get(0), producer, txn.txnEpoch(), (Long) pair.get(1), 1)),
                    List.of(txn))).join();
            assertThat(refused.get(0).batches()).singleElement().isInstanceOfSatisfying(BatchOutcome.Rejected.class,
                    r -> assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.TRANSACTION_NOT_OPEN));
        }
        assertThat(store.transactions().load("owc").join().orElseThrow().record()).containsExactly(7);
        assertThat(store.offsets(two.get(0)).join().nextOffset()).isEqualTo(4);

        // In its predecessor's own block (ingest nodes keep them apart) it cannot stand on a record not written yet.
        store.transactions().save("owc", new byte[] {1}, store.transactions().load("owc").join().orElseThrow()
                .revision(), null, null).join().orElseThrow();
        OneWriteTransaction again = new OneWriteTransaction("owc", producer, epoch + 2,
                store.transactions().load("owc").join().orElseThrow().revision(), new byte[] {13});
        OneWriteTransaction sameBlock = OneWriteTransaction.chainedTo(again, epoch + 3, new byte[] {14});
        List<ChunkCommit> shared = store.commitBlock(new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 500,
                List.of(new BlockChunk(two.get(1), 2, 8, 100, 300, 1_000, 2_000, 7, List.of(
                        new ProducerBatch(producer, 2, 0, 1, epoch + 2),
                        new ProducerBatch(producer, 3, 1, 1, epoch + 3)))), List.of(again, sameBlock))).join();
        assertThat(shared.get(0).batches().get(0)).isEqualTo(new BatchOutcome.Appended(2));
        assertThat(shared.get(0).batches().get(1)).isInstanceOf(BatchOutcome.Rejected.class);
        assertThat(store.transactions().load("owc").join().orElseThrow().record()).containsExactly(13);
    }

    @Test
    void aTransactionInOneWriteWithOneBatchRefusedIsRefusedWholeAndTheRestOfTheBlockStored() {
        Topic t = store.createTopic(new TopicConfig("one-write-whole", 16, -1, -1)).join();
        List<PartitionId> two = inShards(t, 2);
        long producer = store.allocateProducerId().join();
        long other = store.allocateProducerId().join();
        long epoch = (1L << 32) | 1;
        long read = ready("oww", new byte[] {1});
        BlockChunk first = new BlockChunk(two.get(0), 5, 8, 100, 300, 1_000, 2_000, 7, List.of(
                new ProducerBatch(producer, 0, 0, 3, epoch), new ProducerBatch(other, 0, 3, 2)));
        // A sequence this producer never reached on the second partition: that batch cannot be stored.
        BlockChunk second = transactionalChunk(two.get(1), producer, epoch, 4, 2);
        List<ChunkCommit> commits = store.commitBlock(new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 500,
                List.of(first, second), List.of(new OneWriteTransaction("oww", producer, epoch, read,
                        new byte[] {9})))).join();
        assertThat(commits.get(0).batches().get(0)).as("refused with the other, saying so")
                .isInstanceOfSatisfying(BatchOutcome.Rejected.class, r -> {
                    assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.TRANSACTION_NOT_OPEN);
                    // "is no longer open": the words clients end their transaction on (Sender.endsTransaction).
                    assertThat(r.message()).contains("is no longer open").contains("stored whole or not at all")
                            .contains("another of its batches could not be stored");
                });
        assertThat(commits.get(0).batches().get(1)).as("another producer's batch beside it")
                .isEqualTo(new BatchOutcome.Appended(0));
        assertThat(commits.get(1).batches()).singleElement().isInstanceOf(BatchOutcome.Rejected.class);
        assertThat(store.transactions().load("oww").join().orElseThrow().record()).as("not committed")
                .containsExactly(1);
        assertThat(store.offsets(two.get(0)).join().nextOffset()).isEqualTo(2);
        assertThat(store.offsets(two.get(1)).join().nextOffset()).isZero();
    }

    @Test
    void aTransactionInOneWriteIsCommittedInOneMetadataTransactionWhenItsBlockTakesSeveral() {
        Topic t = store.createTopic(new TopicConfig("one-write-split", 32, -1, -1)).join();
        List<PartitionId> three = inShards(t, 3); // x < y < z by shard
        long epoch = (1L << 32) | 1;
        // 55 open transactions on x and on z, 10 on y: one metadata transaction cannot guard them all, and packed
        // shard by shard, z would go apart from x.
        Map<PartitionId, Integer> openOn = Map.of(three.get(0), 55, three.get(1), 10, three.get(2), 55);
        long producer = store.allocateProducerId().join();
        long read = ready("ows", new byte[] {1});
        List<BlockChunk> chunks = new ArrayList<>();
        for (PartitionId p : three) {
            List<ProducerBatch> batches = new ArrayList<>();
            for (int i = 0; i < openOn.get(p); i++) {
                long open = store.allocateProducerId().join();
                store.transactions().save("ows-" + open, new byte[] {1}, 0, null,
                        new io.strata.metadata.txn.TransactionStore.Open(open, epoch)).join().orElseThrow();
                batches.add(new ProducerBatch(open, 0, i, 1, epoch));
            }
            if (!p.equals(three.get(1))) {
                batches.add(new ProducerBatch(producer, 0, batches.size(), 1, epoch));
            }
            chunks.add(new BlockChunk(p, batches.size(), 8 + chunks.size() * 100L, 100, 300, 1_000, 2_000, 7,
                    batches));
        }
        List<ChunkCommit> commits = store.commitBlock(new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 500,
                chunks, List.of(new OneWriteTransaction("ows", producer, epoch, read, new byte[] {9})))).join();
        assertThat(commits).allSatisfy(c -> assertThat(c.batches()).allMatch(o -> o instanceof BatchOutcome.Appended));
        assertThat(store.transactions().load("ows").join().orElseThrow().record()).containsExactly(9);
    }

    @Test
    void aTransactionInOneWriteWhoseRecordMovedIsRefusedAtOnceWhileItsBatchesSentAgainInAnOpenTransactionAreStored()
            throws Exception {
        Topic t = store.createTopic(new TopicConfig("one-write-moved", 1, -1, -1)).join();
        long producer = store.allocateProducerId().join();
        long epoch = (1L << 32) | 1;
        long read = ready("owm", new byte[] {1});
        OneWriteTransaction decided = new OneWriteTransaction("owm", producer, epoch, read, new byte[] {9});
        // Its answer lost, the producer sent the batch again without the commit, which began the transaction.
        store.transactions().save("owm", new byte[] {5}, read, null,
                new io.strata.metadata.txn.TransactionStore.Open(producer, epoch)).join().orElseThrow();
        BlockCommit original = new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 500,
                List.of(transactionalChunk(t.partition(0), producer, epoch, 0, 3)), List.of(decided));
        BlockCommit again = transactional(t.partition(0), producer, epoch, 0, 3);
        List<List<ChunkCommit>> answers = store.commitBlocks(List.of(original, again)).get(10, TimeUnit.SECONDS);
        assertThat(answers.get(0).get(0).batches()).singleElement().isInstanceOfSatisfying(
                BatchOutcome.Rejected.class, r -> assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.TRANSACTION_NOT_OPEN));
        if (answers.size() == 1) { // a store may commit a first run of the blocks only
            answers = List.of(answers.get(0), store.commitBlock(again).get(10, TimeUnit.SECONDS));
        }
        assertThat(answers.get(1).get(0).batches()).as("in the transaction it began")
                .containsExactly(new BatchOutcome.Appended(0));
        assertThat(store.transactions().load("owm").join().orElseThrow().record()).as("not written by the first")
                .containsExactly(5);
    }

    @Test
    void transactionsInOneWriteSpreadOverMoreShardsThanOneMetadataTransactionHoldsAreRefusedAndTheRestCommits() {
        store.close();
        store = newStore(128);
        Topic t = store.createTopic(new TopicConfig("one-write-spread", 512, -1, -1)).join();
        List<PartitionId> ps = inShards(t, 77);
        // Five transactions of 16 partitions each, chained by one partition in common: one unit of 76 shards, a head
        // and an entry each, more than one metadata transaction holds.
        Map<PartitionId, List<ProducerBatch>> batches = new java.util.LinkedHashMap<>();
        List<OneWriteTransaction> txns = new ArrayList<>();
        for (int k = 0; k < 5; k++) {
            txns.add(oneWriteOver(ps.subList(15 * k, 15 * k + 16), "spread-" + k, batches));
        }
        assertRefusedAndTheRestStored(t, ps.get(76), batches, txns);
    }

    @Test
    void moreTransactionsInOneWriteThanOneMetadataTransactionHoldsAreRefusedAndTheRestCommits() {
        Topic t = store.createTopic(new TopicConfig("one-write-many", 64, -1, -1)).join();
        List<PartitionId> ps = inShards(t, 12);
        // 120 transactions over the same 11 partitions: 11 heads, 11 entries and 120 records to put.
        Map<PartitionId, List<ProducerBatch>> batches = new java.util.LinkedHashMap<>();
        List<OneWriteTransaction> txns = new ArrayList<>();
        for (int k = 0; k < 120; k++) {
            txns.add(oneWriteOver(ps.subList(0, 11), "many-" + k, batches));
        }
        assertRefusedAndTheRestStored(t, ps.get(11), batches, txns);
    }

    /** A new producer's transaction in one write over {@code partitions}, its batches added to {@code batches}. */
    private OneWriteTransaction oneWriteOver(List<PartitionId> partitions, String transactionalId,
                                             Map<PartitionId, List<ProducerBatch>> batches) {
        long epoch = (1L << 32) | 1;
        long producer = store.allocateProducerId().join();
        for (PartitionId p : partitions) {
            List<ProducerBatch> in = batches.computeIfAbsent(p, k -> new ArrayList<>());
            in.add(new ProducerBatch(producer, 0, in.size(), 1, epoch));
        }
        return new OneWriteTransaction(transactionalId, producer, epoch, ready(transactionalId, new byte[] {1}),
                new byte[] {9});
    }

    /** Commits the batches with a plain producer's on {@code other}: the transactions refused, the plain one stored. */
    private void assertRefusedAndTheRestStored(Topic t, PartitionId other, Map<PartitionId, List<ProducerBatch>> batches,
                                               List<OneWriteTransaction> txns) {
        long plain = store.allocateProducerId().join();
        batches.put(other, List.of(new ProducerBatch(plain, 0, 0, 1)));
        List<BlockChunk> chunks = new ArrayList<>();
        batches.forEach((p, in) -> chunks.add(new BlockChunk(p, in.size(), 8 + chunks.size() * 100L, 100, 300, 1_000,
                2_000, 7, in)));
        List<ChunkCommit> commits = store.commitBlock(new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 500,
                chunks, txns)).join();
        assertThat(commits.get(commits.size() - 1).batches()).as("the rest of the block")
                .containsExactly(new BatchOutcome.Appended(0));
        assertThat(commits.subList(0, commits.size() - 1)).allSatisfy(c -> assertThat(c.batches())
                .allMatch(o -> o instanceof BatchOutcome.Rejected));
        for (OneWriteTransaction txn : txns) {
            assertThat(store.transactions().load(txn.transactionalId()).join().orElseThrow().record())
                    .containsExactly(1);
        }
    }

    private BlockCommit transactional(PartitionId partition, long producerId, long epoch, long baseSequence,
                                      int records) {
        return new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 500, List.of(new BlockChunk(partition,
                records, 8, 100, 300, 1_000, 2_000, 7, List.of(new ProducerBatch(producerId, baseSequence, 0,
                records, epoch)))));
    }

    @Test
    void aSequenceGapIsRefusedAndItsRecordsGetNoOffsets() {
        Topic t = store.createTopic(new TopicConfig("gap", 1, -1, -1)).join();
        long producer = store.allocateProducerId().join();
        store.commitBlock(idempotent(t.partition(0), producer, 0, 3)).join();
        ChunkCommit gap = store.commitBlock(idempotent(t.partition(0), producer, 5, 2)).join().get(0);
        assertThat(gap.batches().get(0)).isInstanceOfSatisfying(BatchOutcome.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.SEQUENCE_GAP));
        assertThat(store.offsets(t.partition(0)).join().nextOffset()).isEqualTo(3);
    }

    @Test
    void aChunkMixingNewRetriedAndPlainRecordsGivesDenseOffsetsToTheStoredOnes() {
        Topic t = store.createTopic(new TopicConfig("mixed", 1, -1, -1)).join();
        long a = store.allocateProducerId().join();
        long b = store.allocateProducerId().join();
        store.commitBlock(idempotent(t.partition(0), a, 0, 2)).join(); // offsets 0, 1
        // positions: 0-1 plain, 2-3 a's retry of seq 0-1, 4-6 b's first batch, 7 plain
        BlockChunk chunk = new BlockChunk(t.partition(0), 8, 8, 100, 300, 1_000, 2_000, 7,
                List.of(new ProducerBatch(a, 0, 2, 2), new ProducerBatch(b, 0, 4, 3)));
        ChunkCommit c = store.commitBlock(new BlockCommit("wal/00/mixed", 500, List.of(chunk))).join().get(0);
        assertThat(c.baseOffset()).isEqualTo(2);
        assertThat(c.recordCount()).isEqualTo(6);
        assertThat(c.batches()).containsExactly(new BatchOutcome.Duplicate(0), new BatchOutcome.Appended(4));
        assertThat(c.offsetAt(0)).isEqualTo(2);
        assertThat(c.offsetAt(7)).isEqualTo(7);
        ChunkRef ref = store.readIndex().join().entries().stream().flatMap(e -> e.chunks().stream())
                .filter(r -> r.objectKey().equals("wal/00/mixed")).findFirst().orElseThrow();
        assertThat(ref.skipped()).containsExactly(new SkippedRange(2, 2));
        assertThat(ref.withOffsets(List.of("p0", "p1", "a0", "a1", "b0", "b1", "b2", "p7")))
                .containsExactly("p0", "p1", "b0", "b1", "b2", "p7");
    }

    @Test
    void theSameBatchCommittedByRacingWritersIsStoredExactlyOnce() throws Exception {
        Topic t = store.createTopic(new TopicConfig("race", 1, -1, -1)).join();
        long producer = store.allocateProducerId().join();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<ChunkCommit>> outcomes = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            outcomes.add(pool.submit(() -> {
                go.await();
                return store.commitBlock(idempotent(t.partition(0), producer, 0, 10)).join().get(0);
            }));
        }
        go.countDown();
        int appended = 0;
        for (Future<ChunkCommit> f : outcomes) {
            BatchOutcome o = f.get(30, TimeUnit.SECONDS).batches().get(0);
            if (o instanceof BatchOutcome.Appended a) {
                appended++;
                assertThat(a.baseOffset()).isZero();
            } else {
                assertThat(o).isEqualTo(new BatchOutcome.Duplicate(0));
            }
        }
        pool.shutdown();
        assertThat(appended).isEqualTo(1);
        assertThat(store.offsets(t.partition(0)).join().nextOffset()).isEqualTo(10);
    }

    @Test
    void aWatchWakesOnTheCommitThatExtendsAPartition() throws Exception {
        Topic t = store.createTopic(new TopicConfig("watched", 2, -1, -1)).join();
        store.commitBlock(block(t.partition(0))).join();
        IndexSnapshot snapshot = store.readIndex().join();
        CompletableFuture<IndexEntry> woke = new CompletableFuture<>();
        try (AutoCloseable watch = store.watchIndex(snapshot.revision(), new IndexListener() {
            @Override
            public void onEntry(IndexEntry entry) {
                woke.complete(entry);
            }

            @Override
            public void onReset(Throwable cause) {
                woke.completeExceptionally(cause);
            }
        })) {
            assertThat(woke).isNotDone();
            BlockCommit next = block(t.partition(1));
            store.commitBlock(next).join();
            IndexEntry entry = woke.get(10, TimeUnit.SECONDS);
            assertThat(entry.objectKey()).isEqualTo(next.objectKey());
            assertThat(entry.chunks().get(0).partition()).isEqualTo(t.partition(1));
        }
    }

    @Test
    void aRegisteredNodeIsListedUntilItsRegistrationCloses() throws Exception {
        NodeInfo node = new NodeInfo("node-a", "127.0.0.1:9400", "127.0.0.1:9402", Set.of("ingest", "fetch"), 123);
        AutoCloseable registration = store.registerNode(node, Duration.ofSeconds(5)).join();
        assertThat(store.listNodes().join()).contains(node);
        registration.close();
        assertThat(store.listNodes().join()).doesNotContain(node);
    }

    /** A block of one chunk per producer to {@code partition}, each a batch of {@code records} from {@code sequence}. */
    private BlockCommit idempotentBlock(PartitionId partition, List<Long> producers, long sequence, int records) {
        List<ProducerBatch> batches = new ArrayList<>();
        for (int i = 0; i < producers.size(); i++) {
            batches.add(new ProducerBatch(producers.get(i), sequence, i * records, records));
        }
        return new BlockCommit("wal/00/obj-" + objects.incrementAndGet(), 1_000, List.of(new BlockChunk(partition,
                producers.size() * records, 8, 100, 300, 1_000, 2_000, 7, batches)));
    }

    @Test
    void aRetryAfterAThousandOtherIdempotentProducersIsAnsweredAsADuplicateEvenAfterARestart() {
        Topic t = store.createTopic(new TopicConfig("crowded", 1, -1, -1)).join();
        PartitionId p = t.partition(0);
        long first = store.allocateProducerId().join();
        ChunkCommit original = store.commitBlock(idempotentBlock(p, List.of(first), 0, 3)).join().get(0);
        assertThat(original.batches()).containsExactly(new BatchOutcome.Appended(0));
        for (int block = 0; block < 10; block++) {
            List<Long> others = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                others.add(store.allocateProducerId().join());
            }
            store.commitBlock(idempotentBlock(p, others, 0, 2)).join();
        }
        assertThat(store.offsets(p).join().nextOffset()).isEqualTo(3 + 1000 * 2);

        ChunkCommit retry = store.commitBlock(idempotentBlock(p, List.of(first), 0, 3)).join().get(0);
        assertThat(retry.batches()).containsExactly(new BatchOutcome.Duplicate(0));
        assertThat(retry.recordCount()).isZero();

        store.close();
        store = reopen(16); // the producers' state comes back from the index
        assertThat(store.commitBlock(idempotentBlock(p, List.of(first), 0, 3)).join().get(0).batches())
                .containsExactly(new BatchOutcome.Duplicate(0));
        assertThat(store.commitBlock(idempotentBlock(p, List.of(first), 3, 1)).join().get(0).batches())
                .containsExactly(new BatchOutcome.Appended(2003));
        assertThat(store.offsets(p).join().nextOffset()).isEqualTo(2004);
    }

    @Test
    void theProducerStateOfADeletedTopicLeavesMemoryOnceACommitSeesTheDeletion() {
        Topic gone = store.createTopic(new TopicConfig("gone", 1, -1, -1)).join();
        Topic kept = store.createTopic(new TopicConfig("kept", 1, -1, -1)).join();
        List<Long> producers = List.of(store.allocateProducerId().join(), store.allocateProducerId().join());
        store.commitBlock(idempotentBlock(gone.partition(0), producers, 0, 1)).join();
        store.commitBlock(idempotentBlock(kept.partition(0), producers.subList(0, 1), 0, 1)).join();
        assertThat(store.stats().producerStates()).isEqualTo(3);

        store.deleteTopic("gone").join();
        store.commitBlock(idempotentBlock(kept.partition(0), producers.subList(0, 1), 1, 1)).join();

        assertThat(store.stats().producerStates()).as("only the live topic's producer").isEqualTo(1);
        assertThat(store.offsets(kept.partition(0)).join().nextOffset()).isEqualTo(2);
    }

    @Test
    void aBatchPastSequenceZeroFromAProducerThePartitionKeepsNoStateOfIsRefusedAsUnknown() {
        Topic t = store.createTopic(new TopicConfig("unknown", 1, -1, -1)).join();
        long producer = store.allocateProducerId().join();
        ChunkCommit answer = store.commitBlock(idempotentBlock(t.partition(0), List.of(producer), 7, 2)).join().get(0);
        assertThat(answer.batches()).singleElement().isInstanceOfSatisfying(BatchOutcome.Rejected.class, r -> {
            assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.UNKNOWN_PRODUCER);
            assertThat(r.message()).contains("producer " + producer).contains("sequence 7");
        });
        assertThat(answer.recordCount()).isZero();
        assertThat(store.offsets(t.partition(0)).join().nextOffset()).isZero();
    }

    @Test
    void whatACommitWritesDoesNotGrowWithTheOtherPartitionsAndProducersOfItsShard() {
        Topic t = store.createTopic(new TopicConfig("wide", 2_000, -1, -1)).join();
        PartitionId measured = t.partition(0);
        int shard = store.shardOf(measured);
        long producer = store.allocateProducerId().join();
        long before = store.stats().bytesWritten();
        store.commitBlock(idempotentBlock(measured, List.of(producer), 0, 5)).join();
        long alone = store.stats().bytesWritten() - before;

        List<PartitionId> sameShard = new ArrayList<>();
        for (int p = 1; p < 2_000; p++) {
            if (store.shardOf(t.partition(p)) == shard) {
                sameShard.add(t.partition(p));
            }
        }
        assertThat(sameShard).hasSizeGreaterThan(100);
        for (int from = 0; from < sameShard.size(); from += 50) {
            List<BlockChunk> chunks = new ArrayList<>();
            for (PartitionId p : sameShard.subList(from, Math.min(sameShard.size(), from + 50))) {
                List<ProducerBatch> batches = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    batches.add(new ProducerBatch(1_000_000L + from * 8 + i, 0, i, 1));
                }
                chunks.add(new BlockChunk(p, 8, 8, 100, 300, 1_000, 2_000, 7, batches));
            }
            store.commitBlock(new BlockCommit("wal/00/wide-" + from, 1_000, chunks)).join();
        }
        before = store.stats().bytesWritten();
        store.commitBlock(idempotentBlock(measured, List.of(producer), 5, 5)).join();
        long crowded = store.stats().bytesWritten() - before;

        // Only the numbers in the entry grow (offsets, sequence, the head's sequence): a few bytes, not the shard's
        // hundred-odd partitions and thousand-odd producers.
        assertThat(crowded).as("bytes of one chunk's commit, alone (%d) and in a crowded shard", alone)
                .isBetween(alone, alone + 8);
    }

    @Test
    void everythingCommittedSurvivesARestartAndTheShardCountNeverChanges() {
        Topic t = store.createTopic(new TopicConfig("durable", 2, -1, -1)).join();
        store.commitBlock(block(t.partition(0), t.partition(1))).join();
        String clusterId = store.cluster().clusterId();
        int shard = store.shardOf(t.partition(1));
        store.close();
        store = reopen(64);
        assertThat(store.cluster().clusterId()).isEqualTo(clusterId);
        assertThat(store.cluster().shards()).isEqualTo(16);
        assertThat(store.shardOf(t.partition(1))).isEqualTo(shard);
        assertThat(store.getTopic("durable").join()).contains(t);
        assertThat(store.offsets(t.partition(1)).join().nextOffset()).isEqualTo(3);
        assertThat(store.commitBlock(block(t.partition(1))).join().get(0).baseOffset()).isEqualTo(3);
        assertThat(store.readIndex().join().entries()).hasSize(3);
    }
}
