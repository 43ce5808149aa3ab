package io.strata.compaction.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.compaction.CompactionSettings;
import io.strata.format.ChunkEntry;
import io.strata.format.SegmentChunk;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.CleanupPolicy;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.KeyCleaning;
import io.strata.metadata.KeyLayout;
import io.strata.metadata.PartitionId;
import io.strata.metadata.ProducerAppend;
import io.strata.metadata.SegmentRef;
import io.strata.metadata.ShardSnapshot;
import io.strata.metadata.ShardState;
import io.strata.metadata.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The planner alone, on snapshots built by hand: what each kind of index leads to, and that a step never
 * outgrows a transaction.
 */
class ShardPlannerTest {
    private static final long NOW = 10_000_000;
    private static final CompactionSettings SETTINGS = new CompactionSettings(Duration.ofSeconds(1),
            Duration.ofMinutes(1), 1 << 20, 4096, 64 << 10, 4, Duration.ofMinutes(1), Duration.ofMinutes(5),
            Duration.ofSeconds(10), 1, 50, 1L << 20, 0.5);
    private static final PartitionId P = new PartitionId(1, 0);

    private final List<IndexEntry> entries = new ArrayList<>();
    private final Map<String, List<SegmentChunk>> footers = new HashMap<>();
    private long sequence = 1;
    private long committed = KeyLayout.COMPACTION_SEQUENCE_BASE;

    private static Topic topic(long retentionMs, long retentionBytes, CleanupPolicy policy) {
        return new Topic("t", 1, 1, retentionMs, retentionBytes, 0, policy, 60_000);
    }

    /** A WAL block's entry holding one chunk of P at [base, base + count), committed at {@code at}. */
    private void wal(long base, int count, int bytes, long at) {
        String key = "wal/" + sequence;
        entries.add(new IndexEntry(0, sequence++, key, at, List.of(new ChunkRef(P, key, base, count, 8, bytes,
                bytes, at, at, 0))));
    }

    /** A segment of P of {@code chunks} chunks of {@code chunkBytes} and {@code perChunk} offsets, from {@code base}. */
    private SegmentRef segment(long base, int chunks, int chunkBytes, int perChunk, int firstChunk, long ts) {
        String key = "segments/" + committed;
        List<SegmentChunk> footer = new ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            footer.add(new SegmentChunk(new ChunkEntry(P.topicId(), P.partition(), 8 + (long) i * chunkBytes,
                    chunkBytes, chunkBytes, perChunk, ts + i, ts + i, 0), base + (long) i * perChunk, perChunk));
        }
        footers.put(key, footer);
        SegmentRef ref = SegmentRef.of(P, key, footer, 8 + (long) chunks * chunkBytes, chunks * 64 + 4, 0);
        if (firstChunk > 0) {
            ref = ref.from(firstChunk, footer);
        }
        entries.add(IndexEntry.segment(0, committed++, 0, ref));
        return ref;
    }

    private ShardSnapshot snapshot(ShardState state) {
        Map<Long, Long> revisions = new HashMap<>();
        entries.forEach(e -> revisions.put(e.sequence(), e.sequence() % 1000 + 1));
        return new ShardSnapshot(0, entries, revisions, state, 1, 100);
    }

    private ShardPlan plan(Topic topic, ShardState state, int maxOps) {
        return new ShardPlanner(SETTINGS, maxOps, 1 << 20).plan(snapshot(state), Map.of(1L, topic),
                new Footers(footers), NOW, TransactionView.NONE);
    }

    @Test
    void aStagingLogOfDelayedRecordsKeepsThemAWeekWhateverTheTopicsRetentionAndIsNeverKeyCompacted() {
        long day = 86_400_000L;
        long now = 30 * day;
        PartitionId staging = P.staging();
        for (long[] w : new long[][] {{0, now - 8 * day}, {10, now - 2 * day}}) {
            String key = "wal/" + sequence;
            entries.add(new IndexEntry(0, sequence++, key, w[1], List.of(new ChunkRef(staging, key, w[0], 10, 8, 1000,
                    1000, w[1], w[1], 0))));
        }
        ShardPlanner planner = new ShardPlanner(SETTINGS, 128, 1 << 20);
        for (CleanupPolicy policy : CleanupPolicy.values()) {
            ShardPlan plan = planner.plan(snapshot(ShardState.INITIAL), Map.of(1L, topic(3_600_000, 100, policy)),
                    new Footers(footers), now, TransactionView.NONE);
            assertThat(plan).as(policy.toString()).isInstanceOfSatisfying(ShardPlan.Step.class, step ->
                    assertThat(step.logStarts()).as("the chunk of 8 days ago goes, the one of 2 days ago stays, "
                            + "whatever the topic's 1 h and 100 bytes").containsEntry(staging, 10L));
        }
    }

    @Test
    void oldWalChunksMergeAndYoungOnesWait() {
        wal(0, 10, 1000, NOW - 120_000);
        wal(10, 10, 1000, NOW - 90_000);
        wal(20, 10, 1000, NOW - 1_000);
        ShardPlan.Step step = (ShardPlan.Step) plan(topic(-1, -1, CleanupPolicy.DELETE), ShardState.INITIAL, 128);
        assertThat(step.builds()).singleElement().satisfies(b -> {
            assertThat(b.baseOffset()).isZero();
            assertThat(b.endOffset()).isEqualTo(20);
        });
        assertThat(step.replaced()).containsOnlyKeys(1L, 2L);
    }

    @Test
    void aSlowPartitionsFewBytesWaitForMaxAgeAndThenMerge() {
        CompactionSettings slow = new CompactionSettings(SETTINGS.interval(), SETTINGS.minAge(),
                SETTINGS.segmentBytes(), SETTINGS.segmentChunkBytes(), 64 << 10, 4, SETTINGS.gcGrace(),
                SETTINGS.historyKeep(), SETTINGS.lockTtl(), 1, 50, 1L << 20, 0.5, Duration.ofMinutes(4));
        ShardPlanner planner = new ShardPlanner(slow, 128, 1 << 20);
        Map<Long, Topic> topics = Map.of(1L, topic(-1, -1, CleanupPolicy.DELETE));
        wal(0, 10, 1000, NOW - 120_000);
        wal(10, 10, 1000, NOW - 90_000);
        assertThat(planner.plan(snapshot(ShardState.INITIAL), topics, new Footers(footers), NOW, TransactionView.NONE))
                .as("2 kB past min-age, the oldest 2 min old").isInstanceOf(ShardPlan.Nothing.class);
        assertThat(planner.plan(snapshot(ShardState.INITIAL), topics, new Footers(footers), NOW + 121_000, TransactionView.NONE))
                .as("the oldest past max-age").isInstanceOf(ShardPlan.Step.class);
        wal(20, 100, 70_000, NOW - 70_000);
        assertThat(planner.plan(snapshot(ShardState.INITIAL), topics, new Footers(footers), NOW, TransactionView.NONE))
                .as("a small segment's worth").isInstanceOf(ShardPlan.Step.class);
    }

    @Test
    void sizeRetentionCutsInsideASegmentAndKeepsAtMostOneChunkMoreThanTheLimit() {
        segment(0, 10, 1000, 5, 0, NOW);
        ShardState state = ShardState.INITIAL;
        ShardPlan.Step step = (ShardPlan.Step) plan(topic(-1, 3_500, CleanupPolicy.DELETE), state, 128);
        assertThat(step.rewritten()).singleElement().satisfies(e -> {
            assertThat(e.segment().firstChunk()).isEqualTo(6);
            assertThat(e.segment().byteLength()).isEqualTo(4_000);
        });
        assertThat(step.logStarts()).containsEntry(P, 30L);
    }

    @Test
    void whatEndsBeforeALogStartDeleteRecordsMovedGoesWhateverTheRetentionAndTheUnitHoldingItStays() {
        segment(0, 10, 1000, 5, 0, NOW); // offsets 0..50, five a chunk
        wal(50, 10, 1000, NOW);
        wal(60, 10, 1000, NOW);
        ShardState state = new ShardState(KeyLayout.COMPACTION_SEQUENCE_BASE, Map.of(P, 32L));
        ShardPlan.Step step = (ShardPlan.Step) plan(topic(-1, -1, CleanupPolicy.DELETE), state, 128);
        assertThat(step.rewritten()).as("the chunks before 30 go; the one holding 32 stays").singleElement()
                .satisfies(e -> assertThat(e.segment().firstChunk()).isEqualTo(6));
        assertThat(step.logStarts()).as("the start stays where it was moved, inside the chunk kept")
                .containsEntry(P, 32L);
        assertThat(step.replaced()).doesNotContainKeys(1L, 2L);

        state = new ShardState(KeyLayout.COMPACTION_SEQUENCE_BASE, Map.of(P, 65L));
        step = (ShardPlan.Step) plan(topic(-1, -1, CleanupPolicy.COMPACT), state, 128);
        assertThat(step.replaced()).as("the segment and the WAL chunk of 50..60, whatever the policy")
                .containsKeys(1L, KeyLayout.COMPACTION_SEQUENCE_BASE).doesNotContainKey(2L);
        assertThat(step.rewritten()).isEmpty();
        assertThat(step.logStarts()).containsEntry(P, 65L);
    }

    @Test
    void aSegmentWithoutItsFooterAsksForIt() {
        segment(0, 10, 1000, 5, 0, NOW);
        footers.clear();
        assertThat(plan(topic(-1, 3_500, CleanupPolicy.DELETE), ShardState.INITIAL, 128))
                .isInstanceOfSatisfying(ShardPlan.NeedFooters.class, n -> assertThat(n.segments()).hasSize(1));
    }

    @Test
    void segmentsOfOneTierMergeAndEveryMissingFooterIsAskedForAtOnce() {
        for (int i = 0; i < 4; i++) {
            segment(i * 50L, 10, 20_000, 5, 0, NOW); // 200 kB each: one tier above the small size
        }
        CompactionSettings small = new CompactionSettings(SETTINGS.interval(), SETTINGS.minAge(),
                SETTINGS.segmentBytes(), SETTINGS.segmentChunkBytes(), 64 << 10, 4, SETTINGS.gcGrace(),
                SETTINGS.historyKeep(), SETTINGS.lockTtl(), 1, 50, 1L << 20, 0.5);
        Map<String, List<SegmentChunk>> all = new HashMap<>(footers);
        footers.clear();
        ShardPlanner planner = new ShardPlanner(small, 128, 1 << 20);
        ShardPlan first = planner.plan(snapshot(ShardState.INITIAL), Map.of(1L, topic(-1, -1, CleanupPolicy.DELETE)),
                new Footers(footers), NOW, TransactionView.NONE);
        assertThat(first).isInstanceOfSatisfying(ShardPlan.NeedFooters.class,
                n -> assertThat(n.segments()).as("all four in one round").hasSize(4));
        ShardPlan.Step step = (ShardPlan.Step) planner.plan(snapshot(ShardState.INITIAL),
                Map.of(1L, topic(-1, -1, CleanupPolicy.DELETE)), new Footers(all), NOW, TransactionView.NONE);
        assertThat(step.builds()).singleElement().satisfies(b -> {
            assertThat(b.baseOffset()).isZero();
            assertThat(b.endOffset()).isEqualTo(200);
            assertThat(b.sources()).hasSize(40);
        });
        assertThat(step.replaced()).hasSize(4);
    }

    @Test
    void aMostlyDeadSegmentIsRewrittenAloneAndALiveOneIsNot() {
        segment(0, 40, 4096, 5, 25, NOW); // 100 KiB dead before 60 KiB live
        ShardPlan.Step step = (ShardPlan.Step) plan(topic(-1, -1, CleanupPolicy.DELETE), ShardState.INITIAL, 128);
        assertThat(step.builds()).singleElement().satisfies(b -> {
            assertThat(b.baseOffset()).isEqualTo(125);
            assertThat(b.storedBytes()).isEqualTo(15 * 4096);
        });
        entries.clear();
        segment(0, 40, 4096, 5, 10, NOW); // less dead than live
        assertThat(plan(topic(-1, -1, CleanupPolicy.DELETE), ShardState.INITIAL, 128))
                .isInstanceOf(ShardPlan.Nothing.class);
    }

    @Test
    void aStepNeverOutgrowsATransactionAndTheRestWaitsForTheNext() {
        for (int i = 0; i < 100; i++) {
            wal(i * 10L, 10, 100, NOW - 120_000);
        }
        ShardPlan.Step step = (ShardPlan.Step) plan(topic(-1, -1, CleanupPolicy.DELETE), ShardState.INITIAL, 32);
        int ops = step.replaced().size() + step.rewritten().size() + step.builds().size() + 1;
        assertThat(ops).isLessThanOrEqualTo(32);
        assertThat(step.replaced().size()).isBetween(8, 31);
        assertThat(step.builds()).singleElement().satisfies(b -> assertThat(b.baseOffset()).isZero());
    }

    @Test
    void aDeletedTopicsPartitionsLeaveWithTheirState() {
        wal(0, 10, 1000, NOW);
        segment(10, 2, 1000, 5, 0, NOW);
        ShardState state = new ShardState(committed, Map.of(P, 3L), Map.of(P, new KeyCleaning(10, 5, 10)));
        ShardPlan.Step step = (ShardPlan.Step) new ShardPlanner(SETTINGS, 128, 1 << 20).plan(snapshot(state),
                Map.of(), new Footers(footers), NOW, TransactionView.NONE);
        assertThat(step.replaced()).hasSize(2);
        assertThat(step.logStarts()).isEmpty();
        assertThat(step.cleanings()).isEmpty();
        assertThat(step.forgotten()).containsExactly(P);
    }

    @Test
    void aCompactedPartitionIsCleanedOnceHalfOfItIsNew() {
        segment(0, 4, 1000, 5, 0, NOW); // [0, 20), cleaned before
        segment(20, 3, 1000, 5, 0, NOW); // [20, 35), new
        Topic compacted = topic(-1, -1, CleanupPolicy.COMPACT);
        ShardState cleaned = new ShardState(committed, Map.of(), Map.of(P, new KeyCleaning(20,
                KeyCleaning.NO_TOMBSTONE, 20)));
        assertThat(plan(compacted, cleaned, 128)).as("3 of 7 new").isInstanceOf(ShardPlan.Nothing.class);
        segment(35, 1, 1000, 5, 0, NOW);
        ShardPlan.Clean clean = (ShardPlan.Clean) plan(compacted, cleaned, 128);
        assertThat(clean.baseOffset()).isZero();
        assertThat(clean.cleanEnd()).isEqualTo(40);
        assertThat(clean.dirtyFrom()).isEqualTo(20);
        assertThat(clean.expectedKeys()).isEqualTo(20);
        assertThat(clean.replaced()).hasSize(3);
        assertThat(clean.sources()).hasSize(8);
    }

    @Test
    void aDueTombstoneCleansEvenWithNothingNewAndOneCleaningStaysWithinItsBounds() {
        segment(0, 4, 1000, 5, 0, NOW);
        Topic compacted = topic(-1, -1, CleanupPolicy.COMPACT);
        ShardState due = new ShardState(committed, Map.of(), Map.of(P, new KeyCleaning(20, NOW - 61_000, 20)));
        assertThat(plan(compacted, due, 128)).isInstanceOf(ShardPlan.Clean.class);
        ShardState notYet = new ShardState(committed, Map.of(), Map.of(P, new KeyCleaning(20, NOW - 59_000, 20)));
        assertThat(plan(compacted, notYet, 128)).isInstanceOf(ShardPlan.Nothing.class);

        entries.clear();
        for (int i = 0; i < 30; i++) {
            segment(i * 400L, 4, 200_000, 100, 0, NOW); // full: never merged by tiers
        }
        ShardPlan.Clean bySegments = (ShardPlan.Clean) plan(compacted, ShardState.INITIAL, 23);
        assertThat(bySegments.replaced()).as("(23 - 3) / 2 segments a transaction").hasSize(10);
        CompactionSettings smallMap = new CompactionSettings(SETTINGS.interval(), SETTINGS.minAge(),
                SETTINGS.segmentBytes(), SETTINGS.segmentChunkBytes(), SETTINGS.smallSegmentBytes(),
                SETTINGS.tierFanIn(), SETTINGS.gcGrace(), SETTINGS.historyKeep(), SETTINGS.lockTtl(), 1, 50,
                64 << 10, 0.5);
        ShardState lateNews = new ShardState(committed, Map.of(), Map.of(P, new KeyCleaning(6_000,
                KeyCleaning.NO_TOMBSTONE, 6_000)));
        ShardPlan.Clean window = (ShardPlan.Clean) new ShardPlanner(smallMap, 23, 1 << 20).plan(snapshot(lateNews),
                Map.of(1L, compacted), new Footers(footers), NOW, TransactionView.NONE);
        assertThat(window.baseOffset()).as("five new segments (the key map's 2,048 keys) and five cleaned ones before "
                + "them").isEqualTo(4_000);
        assertThat(window.dirtyFrom()).isEqualTo(6_000);
        assertThat(window.cleanEnd()).isEqualTo(8_000);
        long keys = smallMap.keyMapBytes() / CleaningPolicy.KEY_MAP_BYTES_PER_KEY;
        ShardPlan.Clean byKeys = (ShardPlan.Clean) new ShardPlanner(smallMap, 128, 1 << 20).plan(
                snapshot(ShardState.INITIAL), Map.of(1L, compacted), new Footers(footers), NOW, TransactionView.NONE);
        assertThat(byKeys.expectedKeys()).isLessThanOrEqualTo(keys);
        assertThat(byKeys.replaced()).as("2,048 keys: five segments of 400 records").hasSize((int) (keys / 400));
    }

    @Test
    void onlyTombstonesComparedWithTheWholeLogBeforeThemMayGoAndALaggingComparisonCatchesUpFromTheStart() {
        for (int i = 0; i < 8; i++) {
            segment(i * 400L, 4, 200_000, 100, 0, NOW); // [0, 3,200), full: never merged by tiers
        }
        Topic compacted = topic(-1, -1, CleanupPolicy.COMPACT);
        // Cleaned to the end, compared from the start only to 1,000: the rest is within one swap of the start.
        ShardState lagging = new ShardState(committed, Map.of(), Map.of(P, new KeyCleaning(3_200,
                KeyCleaning.NO_TOMBSTONE, 1_000)));
        ShardPlan.Clean catchUp = (ShardPlan.Clean) plan(compacted, lagging, 23);
        assertThat(catchUp.baseOffset()).as("from the log's start").isZero();
        assertThat(catchUp.dirtyFrom()).as("the keys not yet compared").isEqualTo(1_000);
        assertThat(catchUp.cleanEnd()).isEqualTo(3_200);
        assertThat(catchUp.tombstonesBelow()).isEqualTo(1_000);
        assertThat(catchUp.comparedTo()).isEqualTo(3_200);
        assertThat(catchUp.cleanedTo()).isEqualTo(3_200);

        for (int i = 8; i < 30; i++) {
            segment(i * 400L, 4, 200_000, 100, 0, NOW); // up to 12,000
        }
        // Compared to 4,000 (ten segments): one swap from the start reaches no further. Half new: a window then.
        ShardState far = new ShardState(committed, Map.of(), Map.of(P, new KeyCleaning(6_000, NOW - 30_000,
                4_000)));
        ShardPlan.Clean window = (ShardPlan.Clean) plan(compacted, far, 23);
        assertThat(window.baseOffset()).as("(23 - 3) / 2 new segments a swap").isEqualTo(6_000);
        assertThat(window.dirtyFrom()).isEqualTo(6_000);
        assertThat(window.tombstonesBelow()).as("older values before the window may have their key").isEqualTo(4_000);
        assertThat(window.comparedTo()).isEqualTo(4_000);
        assertThat(window.cleanedTo()).isEqualTo(10_000);
        assertThat(window.oldestTombstoneBefore()).as("tombstones before the window are not forgotten")
                .isEqualTo(NOW - 30_000);

        ShardState caughtUp = new ShardState(committed, Map.of(), Map.of(P, new KeyCleaning(12_000,
                KeyCleaning.NO_TOMBSTONE, 4_000)));
        assertThat(plan(compacted, caughtUp, 23)).as("nothing new, nothing due, nothing within reach to compare")
                .isInstanceOf(ShardPlan.Nothing.class);
        ShardState behindFar = new ShardState(committed, Map.of(), Map.of(P, new KeyCleaning(12_000,
                KeyCleaning.NO_TOMBSTONE, 2_000)));
        assertThat(plan(compacted, behindFar, 23)).as("comparing what is left would not reach the end in one swap")
                .isInstanceOf(ShardPlan.Nothing.class);

        // A due tombstone lies below comparedTo: a cleaning from the start finds it and counts afresh.
        ShardState due = new ShardState(committed, Map.of(), Map.of(P, new KeyCleaning(12_000, NOW - 61_000,
                2_000)));
        ShardPlan.Clean front = (ShardPlan.Clean) plan(compacted, due, 23);
        assertThat(front.baseOffset()).isZero();
        assertThat(front.cleanEnd()).isEqualTo(4_000);
        assertThat(front.tombstonesBelow()).isEqualTo(2_000);
        assertThat(front.comparedTo()).isEqualTo(2_000);
        assertThat(front.oldestTombstoneBefore()).isEqualTo(KeyCleaning.NO_TOMBSTONE);
    }

    @Test
    void aCleaningEndsWhereReadCommittedReadersAreHeldAndBeforeABatchWhoseTransactionCannotBeTold() {
        for (int i = 0; i < 6; i++) {
            segment(i * 400L, 4, 200_000, 100, 0, NOW); // [0, 2,400)
        }
        // The fifth segment carries a batch of a transaction.
        ProducerAppend batch = new ProducerAppend(P, 7, 0, 10, 1_650, 3L << 32 | 1);
        IndexEntry fifth = entries.get(4);
        entries.set(4, IndexEntry.segment(0, fifth.sequence(), 0, fifth.segment(), List.of(batch)));
        Topic compacted = topic(-1, -1, CleanupPolicy.COMPACT);
        ShardPlanner planner = new ShardPlanner(SETTINGS, 128, 1 << 20);

        TransactionView held = new TransactionView(Set.of(), p -> java.util.OptionalLong.of(1_000), false);
        ShardPlan.Clean upToHold = (ShardPlan.Clean) planner.plan(snapshot(ShardState.INITIAL), Map.of(1L, compacted),
                new Footers(footers), NOW, held);
        assertThat(upToHold.cleanEnd()).as("readers held at 1,000, by a transaction with no record yet")
                .isEqualTo(800);

        TransactionView unreadable = new TransactionView(Set.of(), p -> java.util.OptionalLong.empty(), true);
        ShardPlan.Clean beforeBatch = (ShardPlan.Clean) planner.plan(snapshot(ShardState.INITIAL),
                Map.of(1L, compacted), new Footers(footers), NOW, unreadable);
        assertThat(beforeBatch.cleanEnd()).as("a batch that cannot be told from an open one").isEqualTo(1_600);

        TransactionView aborted = new TransactionView(Set.of(List.of(1L, 0L, 7L, 3L << 32 | 1)),
                p -> java.util.OptionalLong.empty(), false);
        ShardPlan.Clean whole = (ShardPlan.Clean) planner.plan(snapshot(ShardState.INITIAL), Map.of(1L, compacted),
                new Footers(footers), NOW, aborted);
        assertThat(whole.cleanEnd()).isEqualTo(2_400);
        assertThat(whole.aborted()).as("its records go").containsExactly(batch);
    }
}
