package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the compaction side of every {@link MetadataStore} must do, on the embedded store and on a real
 * etcd: guarded swaps of a shard's entries, locks bound to leases, garbage markers that fence commits,
 * forgetting deleted partitions and compacting the revision history.
 */
public abstract class CompactionStoreContract {
    protected MetadataStore store;
    private CompactionStore compaction;
    private final AtomicInteger objects = new AtomicInteger();
    private final List<WorkerSession> sessions = new ArrayList<>();

    /** A store over fresh, empty metadata with {@code shards} shards. */
    protected abstract MetadataStore newStore(int shards);

    @BeforeEach
    void open() {
        store = newStore(4);
        compaction = store.compaction();
    }

    @AfterEach
    void closeStore() {
        sessions.forEach(WorkerSession::close);
        store.close();
    }

    private static Throwable cause(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    private WorkerSession session(String owner) {
        WorkerSession s = compaction.openSession(owner, Duration.ofSeconds(5)).join();
        sessions.add(s);
        return s;
    }

    private String commit(PartitionId... partitions) {
        List<BlockChunk> chunks = new ArrayList<>();
        long offset = 8;
        for (PartitionId p : partitions) {
            chunks.add(new BlockChunk(p, 10, offset, 100, 300, 1_000, 2_000, 0xC0FFEE));
            offset += 100;
        }
        String key = "wal/00/obj-" + objects.incrementAndGet();
        store.commitBlock(new BlockCommit(key, offset + 100, chunks)).join();
        return key;
    }

    /** Two partitions of one topic that share a shard. */
    private PartitionId[] twoInOneShard() {
        Topic t = store.createTopic(new TopicConfig("t", 16, -1, -1)).join();
        for (int a = 0; a < 16; a++) {
            for (int b = a + 1; b < 16; b++) {
                if (store.shardOf(t.partition(a)) == store.shardOf(t.partition(b))) {
                    return new PartitionId[] {t.partition(a), t.partition(b)};
                }
            }
        }
        throw new IllegalStateException("16 partitions over 4 shards share one");
    }

    private static SegmentRef segment(PartitionId p, long base, long end) {
        return new SegmentRef(p, "segments/" + p.topicId() + "-" + p.partition() + "-" + base, base, end, 0, 1, 8,
                1000, 5000, end - base, 1_000, 2_000, 1008, 68, 0xBEEF);
    }

    /** Replaces partition a's chunks of the shard's WAL entries with one segment; b's chunks stay, rewritten. */
    private ShardSwap mergeA(ShardSnapshot snapshot, WorkLock lock, PartitionId a) {
        long next = snapshot.state().nextSequence();
        List<IndexEntry> added = new ArrayList<>();
        java.util.Map<Long, Long> replaced = new java.util.HashMap<>();
        long end = 0;
        for (IndexEntry e : snapshot.entries()) {
            List<ChunkRef> others = e.chunks().stream().filter(c -> !c.partition().equals(a)).toList();
            end = Math.max(end, e.chunks().stream().filter(c -> c.partition().equals(a)).mapToLong(ChunkRef::endOffset)
                    .max().orElse(0));
            replaced.put(e.sequence(), snapshot.modRevisions().get(e.sequence()));
            if (!others.isEmpty()) {
                added.add(new IndexEntry(snapshot.shard(), next++, e.objectKey(), e.committedAtMs(), others));
            }
        }
        SegmentRef seg = segment(a, 0, end);
        added.add(IndexEntry.segment(snapshot.shard(), next++, 5_000, seg));
        Map<PartitionId, Long> starts = new java.util.HashMap<>(snapshot.state().logStarts()); // as planners keep them
        starts.putIfAbsent(a, 0L);
        return new ShardSwap(snapshot.shard(), lock, snapshot.stateModRevision(),
                new ShardState(next, starts, Map.of(a, new KeyCleaning(end, 1_234, end),
                        new PartitionId(a.topicId(), a.partition() + 1_000), new KeyCleaning(7, KeyCleaning.NO_TOMBSTONE, 3))),
                replaced, added, Set.of(seg.objectKey()));
    }

    @Test
    void aWorkersLastPassIsReadBackByAnyoneAndAnOldOneOfAnotherWorkerIsForgotten() {
        long now = System.currentTimeMillis();
        compaction.recordPass(new CompactionPass("gone", now - 100_000, 5, 1, 1, 0, 0, 0, 0, 0, 0, 3, 0, 0),
                Duration.ofHours(1)).join();
        compaction.recordPass(new CompactionPass("w1", now - 2_000, 120, 2, 7, 1, 4096, 512, 0, 3, 0, 9, 1_500, 0),
                Duration.ofHours(1)).join();
        compaction.recordPass(new CompactionPass("w1", now - 1_000, 80, 2, 2, 0, 100, 0, 0, 0, 1, 8, 500, 20),
                Duration.ofHours(1)).join();
        assertThat(compaction.readPasses().join()).extracting(CompactionPass::owner).containsExactly("w1", "gone");
        assertThat(compaction.readPasses().join().get(0))
                .isEqualTo(new CompactionPass("w1", now - 1_000, 80, 2, 2, 0, 100, 0, 0, 0, 1, 8, 500, 20));
        // A pass older than the last minute is forgotten when a worker writes down its next one.
        compaction.recordPass(new CompactionPass("w2", now, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                Duration.ofMinutes(1)).join();
        assertThat(compaction.readPasses().join()).extracting(CompactionPass::owner).containsExactly("w2", "w1");
    }

    @Test
    void aSwapReplacesEntriesAndAdvancesTheStateInOneTransaction() {
        PartitionId[] p = twoInOneShard();
        commit(p[0], p[1]);
        commit(p[0]);
        int shard = store.shardOf(p[0]);
        ShardSnapshot before = compaction.readShard(shard).join();
        assertThat(before.entries()).hasSize(2);
        assertThat(before.state()).isEqualTo(ShardState.INITIAL);
        assertThat(before.stateModRevision()).isZero();
        WorkLock lock = session("w").tryLock("shard-" + shard).join().orElseThrow();
        ShardSwap swap = mergeA(before, lock, p[0]);
        assertThat(compaction.swap(swap).join()).isInstanceOf(SwapOutcome.Applied.class);

        ShardSnapshot after = compaction.readShard(shard).join();
        assertThat(after.state()).isEqualTo(swap.newState());
        assertThat(after.stateModRevision()).isPositive();
        assertThat(after.entries()).hasSize(2);
        assertThat(after.entries()).filteredOn(IndexEntry::isSegment).singleElement()
                .satisfies(e -> assertThat(e.segment().endOffset()).isEqualTo(20));
        assertThat(after.entries()).filteredOn(e -> !e.isSegment()).singleElement()
                .satisfies(e -> assertThat(e.chunks()).extracting(ChunkRef::partition).containsExactly(p[1]));
        assertThat(after.entries()).allMatch(e -> e.sequence() >= KeyLayout.COMPACTION_SEQUENCE_BASE);
        IndexSnapshot index = store.readIndex(shard).join();
        assertThat(index.entries()).hasSize(2);
        assertThat(index.logStarts()).containsEntry(p[0], 0L);
        assertThat(store.offsets(p[0]).join().nextOffset()).as("commits' heads are untouched").isEqualTo(20);
    }

    @Test
    void aSwapOverAMovedStateOrAGoneEntryChangesNothing() {
        PartitionId[] p = twoInOneShard();
        commit(p[0], p[1]);
        int shard = store.shardOf(p[0]);
        ShardSnapshot before = compaction.readShard(shard).join();
        WorkLock lock = session("w").tryLock("shard-" + shard).join().orElseThrow();
        assertThat(compaction.swap(mergeA(before, lock, p[0])).join()).isInstanceOf(SwapOutcome.Applied.class);
        ShardSnapshot now = compaction.readShard(shard).join();

        ShardSwap stale = mergeA(before, lock, p[0]); // the state and the entry it replaces have moved on
        assertThat(compaction.swap(stale).join()).isInstanceOf(SwapOutcome.Conflict.class);
        IndexEntry kept = now.entries().get(0);
        ShardSwap goneEntry = new ShardSwap(shard, lock, now.stateModRevision(),
                new ShardState(now.state().nextSequence() + 1, Map.of()), Map.of(kept.sequence() + 999, 5L), List.of(),
                Set.of());
        assertThat(compaction.swap(goneEntry).join()).isInstanceOf(SwapOutcome.Conflict.class);
        assertThat(compaction.readShard(shard).join().entries()).isEqualTo(now.entries());
    }

    @Test
    void aShardsSizesAreWrittenOnlyUnderItsLockAndReadBackByAnyone() {
        WorkerSession one = session("one");
        WorkLock lock = one.tryLock("shard-2").join().orElseThrow();
        PartitionId a = new PartitionId(7, 0);
        PartitionId b = new PartitionId(9, 3);
        compaction.recordSizes(new ShardSizes(2, 1_000, Map.of(a, 4_096L, b, 0L)), lock).join();
        compaction.recordSizes(new ShardSizes(2, 2_000, Map.of(a, 8_192L)), lock).join();
        assertThat(compaction.readSizes().join()).containsExactly(new ShardSizes(2, 2_000, Map.of(a, 8_192L)));
        assertThat(compaction.readSizes(List.of(1, 2, 3)).join()).containsExactly(new ShardSizes(2, 2_000, Map.of(a, 8_192L)));
        assertThat(compaction.readSizes(List.of(3)).join()).as("a shard never measured").isEmpty();
        one.close();
        assertThatThrownBy(() -> compaction.recordSizes(new ShardSizes(2, 3_000, Map.of()), lock).join())
                .as("a worker that lost the shard does not overwrite a newer measure")
                .satisfies(t -> assertThat(cause(t)).isInstanceOf(MetadataException.class).hasMessageContaining("lost"));
        assertThat(compaction.readSizes().join()).extracting(ShardSizes::measuredAtMs).containsExactly(2_000L);
    }

    @Test
    void aLockIsHeldByOneSessionUntilReleasedOrTheSessionEnds() {
        WorkerSession one = session("one");
        WorkerSession two = session("two");
        WorkLock lock = one.tryLock("shard-1").join().orElseThrow();
        assertThat(two.tryLock("shard-1").join()).isEmpty();
        assertThat(two.tryLock("shard-2").join()).isPresent();
        one.unlock(lock).join();
        WorkLock taken = two.tryLock("shard-1").join().orElseThrow();
        one.close();
        WorkerSession three = session("three");
        assertThat(three.tryLock("shard-1").join()).isEmpty();
        two.close();
        assertThat(three.tryLock("shard-1").join()).as("the lease of the holder ended").isPresent();
        assertThat(taken.modRevision()).isPositive();
    }

    @Test
    void aSwapUnderALockWhoseSessionEndedChangesNothing() {
        PartitionId[] p = twoInOneShard();
        commit(p[0], p[1]);
        int shard = store.shardOf(p[0]);
        WorkerSession paused = session("paused");
        WorkLock lock = paused.tryLock("shard-" + shard).join().orElseThrow();
        ShardSnapshot before = compaction.readShard(shard).join();
        paused.close(); // as if its lease expired while it was stopped
        assertThat(compaction.swap(mergeA(before, lock, p[0])).join()).isInstanceOf(SwapOutcome.Conflict.class);
        assertThat(compaction.readShard(shard).join().entries()).isEqualTo(before.entries());
    }

    @Test
    void aLockLeftWithItsOwnSessionByALostAnswerIsTakenAgainByThatSessionOnly() {
        WorkerSession mine = session("mine");
        WorkLock first = mine.tryLock("shard-00001").join().orElseThrow();
        // The unlock's answer was lost before it applied (or the grant's, after): the key stays with the session.
        assertThat(mine.tryLock("shard-00001").join()).as("its own session takes it again")
                .hasValueSatisfying(again -> assertThat(again.modRevision()).isEqualTo(first.modRevision()));
        assertThat(session("other").tryLock("shard-00001").join()).as("no one else").isEmpty();
        mine.unlock(first).join();
        assertThat(session("other").tryLock("shard-00001").join()).isPresent();
    }

    @Test
    void aCondemnedObjectCanBeNeitherCommittedNorAddedBySwap() {
        PartitionId[] p = twoInOneShard();
        commit(p[0]);
        WorkLock gc = session("gc").tryLock("gc").join().orElseThrow();
        String next = "wal/00/obj-" + (objects.get() + 1);
        compaction.putMarkers(List.of(new GcMarker(next, 1, 1, false)), gc).join();
        assertThatThrownBy(() -> commit(p[0]))
                .satisfies(e -> assertThat(cause(e)).isInstanceOf(MetadataException.class)
                        .hasMessageContaining("collected as garbage"));
        assertThat(store.offsets(p[0]).join().nextOffset()).isEqualTo(10);

        int shard = store.shardOf(p[0]);
        ShardSnapshot snapshot = compaction.readShard(shard).join();
        WorkLock lock = session("w").tryLock("shard-" + shard).join().orElseThrow();
        ShardSwap swap = mergeA(snapshot, lock, p[0]);
        String segmentKey = swap.newObjects().iterator().next();
        compaction.putMarkers(List.of(new GcMarker(segmentKey, 1, 1, false)), gc).join();
        assertThat(compaction.swap(swap).join()).isInstanceOf(SwapOutcome.Conflict.class);

        assertThat(compaction.readMarkers().join()).containsOnlyKeys(next, segmentKey);
        compaction.deleteMarkers(List.of(next, segmentKey), gc).join();
        assertThat(compaction.readMarkers().join()).isEmpty();
        assertThat(compaction.swap(swap).join()).isInstanceOf(SwapOutcome.Applied.class);
    }

    @Test
    void markersAreWrittenOnlyWhileTheLockIsHeld() {
        WorkerSession holder = session("gc");
        WorkLock gc = holder.tryLock("gc").join().orElseThrow();
        List<GcMarker> many = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            many.add(new GcMarker("wal/0" + (i % 3) + "/o-" + i, i, i, i % 2 == 0));
        }
        compaction.putMarkers(many, gc).join();
        assertThat(compaction.readMarkers().join()).hasSize(300)
                .containsEntry("wal/01/o-1", new GcMarker("wal/01/o-1", 1, 1, false));
        holder.close();
        assertThatThrownBy(() -> compaction.putMarkers(List.of(new GcMarker("late", 1, 1, false)), gc).join())
                .satisfies(e -> assertThat(cause(e)).isInstanceOf(MetadataException.class));
        assertThat(compaction.readMarkers().join()).doesNotContainKey("late");
    }

    @Test
    void raisedLogStartsNeverMoveBackKeepTheRestOfTheStateAndFailASwapPlannedBeforeThem() {
        PartitionId[] p = twoInOneShard();
        commit(p[0], p[1]);
        int shard = store.shardOf(p[0]);
        assertThat(compaction.raiseLogStarts(shard, Map.of(p[0], 4L)).join()).isEqualTo(Map.of(p[0], 4L));
        assertThat(compaction.readShard(shard).join().state()).as("written where no state was")
                .isEqualTo(new ShardState(ShardState.INITIAL.nextSequence(), Map.of(p[0], 4L)));

        ShardSnapshot before = compaction.readShard(shard).join();
        WorkLock lock = session("w").tryLock("shard-" + shard).join().orElseThrow();
        ShardSwap swap = mergeA(before, lock, p[0]);
        assertThat(compaction.swap(swap).join()).isInstanceOf(SwapOutcome.Applied.class);
        ShardSnapshot merged = compaction.readShard(shard).join();
        assertThat(merged.state().logStarts()).as("a swap planned after the raise keeps it").containsEntry(p[0], 4L);

        ShardSwap planned = new ShardSwap(shard, lock, merged.stateModRevision(), new ShardState(
                merged.state().nextSequence() + 1, Map.of(p[0], 2L)), Map.of(), List.of(), Set.of());
        assertThat(compaction.raiseLogStarts(shard, Map.of(p[0], 7L, p[1], 3L)).join())
                .isEqualTo(Map.of(p[0], 7L, p[1], 3L));
        assertThat(compaction.raiseLogStarts(shard, Map.of(p[0], 5L)).join()).as("never back")
                .isEqualTo(Map.of(p[0], 7L));
        assertThat(compaction.swap(planned).join()).as("planned over the state before the raise")
                .isInstanceOf(SwapOutcome.Conflict.class);

        ShardState state = compaction.readShard(shard).join().state();
        assertThat(state.logStarts()).isEqualTo(Map.of(p[0], 7L, p[1], 3L));
        assertThat(state.nextSequence()).isEqualTo(merged.state().nextSequence());
        assertThat(state.cleanings()).isEqualTo(merged.state().cleanings());
        assertThat(store.offsets(p[0]).join().logStartOffset()).isEqualTo(7);
        assertThat(store.offsets(p[1]).join().logStartOffset()).isEqualTo(3);
        assertThat(store.offsets(p[1]).join().nextOffset()).as("commits' heads are untouched").isEqualTo(10);
    }

    @Test
    void retentionMovesTheLogStartThatOffsetsAndWatchersSee() throws Exception {
        PartitionId[] p = twoInOneShard();
        commit(p[0]);
        commit(p[0]);
        int shard = store.shardOf(p[0]);
        ShardSnapshot snapshot = compaction.readShard(shard).join();
        IndexEntry first = snapshot.entries().stream().min(java.util.Comparator.comparingLong(IndexEntry::sequence))
                .orElseThrow();
        List<String> seen = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(2);
        try (AutoCloseable watch = store.watchIndex(store.revision().join(), new IndexListener() {
            @Override
            public void onEntry(IndexEntry entry) {
                seen.add("entry " + entry.sequence());
            }

            @Override
            public void onRemoved(int s, long sequence) {
                seen.add("removed " + sequence);
                done.countDown();
            }

            @Override
            public void onLogStarts(int s, Map<PartitionId, Long> logStarts) {
                seen.add("starts " + logStarts.get(p[0]));
                done.countDown();
            }

            @Override
            public void onReset(Throwable cause) {
            }
        })) {
            WorkLock lock = session("w").tryLock("shard-" + shard).join().orElseThrow();
            ShardSwap expire = new ShardSwap(shard, lock, 0,
                    new ShardState(snapshot.state().nextSequence() + 1, Map.of(p[0], 10L)),
                    Map.of(first.sequence(), snapshot.modRevisions().get(first.sequence())), List.of(), Set.of());
            assertThat(compaction.swap(expire).join()).isInstanceOf(SwapOutcome.Applied.class);
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(seen).containsExactly("starts 10", "removed " + first.sequence());
        PartitionOffsets offsets = store.offsets(p[0]).join();
        assertThat(offsets.logStartOffset()).isEqualTo(10);
        assertThat(offsets.nextOffset()).isEqualTo(20);
    }

    @Test
    void historyIsCompactedUpToARevisionSampledLongEnoughAgo() throws Exception {
        WorkLock gc = session("gc").tryLock("gc").join().orElseThrow();
        long before = store.revision().join();
        PartitionId[] p = twoInOneShard();
        commit(p[0]);
        assertThat(compaction.compactHistory(Duration.ZERO, gc).join()).as("the first run only samples").isZero();
        commit(p[1]);
        long compacted = compaction.compactHistory(Duration.ZERO, gc).join();
        assertThat(compacted).isGreaterThan(before);
        assertThat(compaction.compactHistory(Duration.ofHours(1), gc).join()).as("sampled too recently").isZero();
        CountDownLatch reset = new CountDownLatch(1);
        try (AutoCloseable watch = store.watchIndex(before, new IndexListener() {
            @Override
            public void onEntry(IndexEntry entry) {
            }

            @Override
            public void onReset(Throwable cause) {
                reset.countDown();
            }
        })) {
            assertThat(reset.await(10, TimeUnit.SECONDS)).as("a watch from before the compaction breaks").isTrue();
        }
        assertThat(store.offsets(p[0]).join().nextOffset()).isEqualTo(10);
    }

    @Test
    void aLiveTopicsRetentionAndCleanupPolicyCanBeAltered() {
        Topic t = store.createTopic(new TopicConfig("live", 2, -1, -1)).join();
        Topic altered = store.alterTopic("live", new TopicChange(OptionalLong.of(30_000), OptionalLong.empty(),
                Optional.of(CleanupPolicy.COMPACT_DELETE), OptionalLong.empty())).join().orElseThrow();
        assertThat(altered.retentionMs()).isEqualTo(30_000);
        assertThat(altered.retentionBytes()).isEqualTo(-1);
        assertThat(altered.cleanupPolicy()).isEqualTo(CleanupPolicy.COMPACT_DELETE);
        assertThat(altered.topicId()).isEqualTo(t.topicId());
        assertThat(store.getTopic("live").join()).contains(altered);
        assertThat(store.alterTopic("absent", new TopicChange(OptionalLong.of(1), OptionalLong.empty(),
                Optional.empty(), OptionalLong.empty())).join()).isEmpty();
    }

    @Test
    void aTopicsPartitionCountGrowsOrStaysAndNeverShrinks() {
        Topic t = store.createTopic(new TopicConfig("growing", 2, 60_000, -1)).join();
        Topic grown = store.alterTopic("growing", TopicChange.partitions(5)).join().orElseThrow();
        assertThat(grown.partitions()).isEqualTo(5);
        assertThat(grown.topicId()).isEqualTo(t.topicId());
        assertThat(grown.retentionMs()).isEqualTo(60_000);
        assertThat(store.getTopic("growing").join()).contains(grown);
        assertThat(store.offsets(grown.partition(4)).join().nextOffset()).isZero();
        assertThat(store.alterTopic("growing", TopicChange.partitions(5)).join()).as("a retried change").contains(grown);
        assertThatThrownBy(() -> store.alterTopic("growing", TopicChange.partitions(3)).join())
                .hasCauseInstanceOf(PartitionCountException.class);
        assertThat(store.getTopic("growing").join().orElseThrow().partitions()).isEqualTo(5);
    }
}
