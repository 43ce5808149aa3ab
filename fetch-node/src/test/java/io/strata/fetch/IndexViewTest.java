package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.fetch.index.IndexView;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.KeyLayout;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.SegmentRef;
import io.strata.metadata.PartitionId;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The bounded index view over the embedded metadata store: shards read on demand, dropped when cold. */
class IndexViewTest extends ReadPathFixture {

    @Test
    void shardsAreReadWhenAskedForAndTheLeastRecentlyUsedAreDroppedBeyondTheBound() {
        Topic wide = metadata.createTopic(new TopicConfig("wide", 8, -1, -1)).join();
        // One partition per metadata shard (the fixture's store has 8 shards).
        List<PartitionId> oneEach = new ArrayList<>();
        IntStream.range(0, 8).mapToObj(wide::partition).forEach(p -> {
            if (oneEach.stream().noneMatch(q -> metadata.shardOf(q) == metadata.shardOf(p))) {
                oneEach.add(p);
            }
        });
        assertThat(oneEach).hasSizeGreaterThanOrEqualTo(3);
        for (PartitionId p : oneEach) {
            for (int b = 0; b < 4; b++) {
                commitTo(wide, p.partition(), 5);
            }
        }
        IndexView bounded = new IndexView(metadata, timer, 10);
        try {
            bounded.start().join();
            assertThat(bounded.heldShards()).as("nothing is read before it is asked for").isZero();
            PartitionId first = oneEach.get(0);
            bounded.load(first).join();
            assertThat(bounded.partition(first).endOffset()).isEqualTo(20);
            assertThat(bounded.heldChunks()).isEqualTo(4);
            bounded.load(oneEach.get(1)).join();
            bounded.load(oneEach.get(2)).join();
            assertThat(bounded.heldChunks()).as("at most the bound after eviction").isLessThanOrEqualTo(10);
            assertThat(bounded.partition(first).endOffset()).as("the least recently used shard was dropped").isZero();
            long reads = bounded.shardReads();
            bounded.load(first).join();
            assertThat(bounded.shardReads()).isEqualTo(reads + 1);
            assertThat(bounded.partition(first).endOffset()).as("read again, whole").isEqualTo(20);
            assertThat(bounded.partition(first).refsFrom(0)).hasSize(4);
        } finally {
            bounded.close();
        }
    }

    @Test
    void aHeldShardFollowsCommitsAndOneBeingAwaitedIsNotDropped() {
        Topic wide = metadata.createTopic(new TopicConfig("wide", 8, -1, -1)).join();
        List<PartitionId> oneEach = new ArrayList<>();
        IntStream.range(0, 8).mapToObj(wide::partition).forEach(p -> {
            if (oneEach.stream().noneMatch(q -> metadata.shardOf(q) == metadata.shardOf(p))) {
                oneEach.add(p);
            }
        });
        for (PartitionId p : oneEach) {
            commitTo(wide, p.partition(), 3);
            commitTo(wide, p.partition(), 3);
        }
        IndexView bounded = new IndexView(metadata, timer, 3);
        try {
            bounded.start().join();
            PartitionId awaited = oneEach.get(0);
            bounded.load(awaited).join();
            CompletableFuture<Boolean> waiting = bounded.awaitBeyond(awaited, 6, Duration.ofSeconds(30));
            for (PartitionId other : oneEach.subList(1, oneEach.size())) {
                bounded.load(other).join();
            }
            assertThat(bounded.partition(awaited).endOffset()).as("kept while awaited").isEqualTo(6);
            commitTo(wide, awaited.partition(), 4);
            assertThat(waiting.join()).isTrue();
            assertThat(bounded.partition(awaited).endOffset()).as("followed by the watch").isEqualTo(10);
        } finally {
            bounded.close();
        }
    }

    @Test
    void aSegmentTheWatchBroughtWhileItsShardWasReadIsNotDisplacedByTheChunksItReplaced() {
        commitTo(topic, 0, 5);
        commitTo(topic, 0, 5);
        PartitionId p = topic.partition(0);
        int shard = metadata.shardOf(p);
        List<IndexEntry> chunks = metadata.readIndex(shard).join().entries();
        assertThat(chunks).hasSize(2);
        IndexEntry merged = IndexEntry.segment(shard, KeyLayout.COMPACTION_SEQUENCE_BASE, 0, new SegmentRef(p,
                "segments/0", 0, 10, 0, 1, 0, 100, 100, 10, 0, 0, 100, 8, 0));
        // The removals arrive while the read is under way, or after it (compaction deletes the chunks' entries
        // after it put the segment's): either way the segment alone holds offsets 0 to 10 once it is done.
        for (boolean removedWhileReading : List.of(true, false)) {
            CompletableFuture<Void> release = new CompletableFuture<>();
            IndexView view = new IndexView(readsHeldUntil(release), timer);
            try {
                view.start().join();
                CompletableFuture<Void> loaded = view.load(p);
                view.onEntry(merged); // the watch is ahead of the read
                if (removedWhileReading) {
                    chunks.forEach(c -> view.onRemoved(shard, c.sequence()));
                }
                release.complete(null);
                loaded.join();
                if (!removedWhileReading) {
                    chunks.forEach(c -> view.onRemoved(shard, c.sequence()));
                }
                assertThat(view.partition(p).refsFrom(0)).as("removed while reading: " + removedWhileReading)
                        .containsExactly(merged.segment());
                assertThat(view.partition(p).refsFrom(7)).containsExactly(merged.segment());
                assertThat(view.partition(p).endOffset()).isEqualTo(10);
            } finally {
                view.close();
            }
        }
    }

    @Test
    void aPartitionNobodyWaitsOnAnyMoreLeavesNothingBehind() {
        // Partitions nothing was committed to yet, so no earlier commit's watch event wakes a waiter early.
        PartitionId p = topic.partition(1);
        index.load(p).join();
        index.load(topic.partition(2)).join();
        CompletableFuture<Boolean> grown = index.awaitBeyond(p, 0, Duration.ofSeconds(30));
        CompletableFuture<Boolean> timedOut = index.awaitBeyond(topic.partition(2), 0, Duration.ofMillis(500));
        assertThat(index.awaitedPartitions()).isEqualTo(2);
        commitTo(topic, 1, 1);
        assertThat(grown.join()).isTrue();
        assertThat(timedOut.join()).isFalse();
        assertThat(index.awaitedPartitions()).isZero();
    }

    @Test
    void aReadAtAnOffsetWhoseChunkIsGoneFindsNothingRatherThanTheChunksAfterIt() {
        for (int i = 0; i < 3; i++) {
            commitTo(topic, 0, 5);
        }
        PartitionId p = topic.partition(0);
        int shard = metadata.shardOf(p);
        List<IndexEntry> chunks = metadata.readIndex(shard).join().entries();
        // A view without a watch, so no commit's event arrives after the removal below and puts the chunk back.
        IndexView unwatched = new IndexView(metadata, timer);
        try {
            unwatched.load(p).join();
            // As while a shard is dropped: its entries leave one by one, in no particular order.
            unwatched.onRemoved(shard, chunks.get(1).sequence());
            assertThat(unwatched.partition(p).refsFrom(7)).as("offsets 5 to 10 are not held: nothing, never 10 on")
                    .isEmpty();
            assertThat(unwatched.partition(p).refsFrom(2)).as("the chunk holding 2, and no further than the gap")
                    .containsExactly(chunks.get(0).chunks().get(0));
        } finally {
            unwatched.close();
        }
    }

    /** The metadata store, each index shard's read of which completes only once {@code release} has. */
    private MetadataStore readsHeldUntil(CompletableFuture<Void> release) {
        return intercepted((method, args, real) -> method.equals("readIndex") && args != null && args.length == 1
                ? ((CompletableFuture<?>) real.get()).thenCombine(release, (snapshot, v) -> snapshot) : real.get());
    }

    private void commitTo(Topic t, int partition, int records) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            values.add("v" + i);
        }
        commit(t, Map.of(partition, values), 1000);
    }
}
