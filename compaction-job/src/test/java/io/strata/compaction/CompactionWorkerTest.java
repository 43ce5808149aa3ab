package io.strata.compaction;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.compaction.CompactionFixture.Rec;
import io.strata.metadata.PartitionId;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import io.strata.storage.object.ObjectKey;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The compaction job on the embedded store and a local directory: merging, retention, deletion, garbage. */
class CompactionWorkerTest {
    @TempDir
    Path dir;
    private CompactionFixture f;

    @BeforeEach
    void open() {
        f = new CompactionFixture(dir, 8);
    }

    @AfterEach
    void close() {
        f.close();
    }

    private static List<Rec> recs(String prefix, int from, int count, long ts) {
        List<Rec> out = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            out.add(new Rec("k" + (i % 7), prefix + i, ts + i));
        }
        return out;
    }

    /** Passes until the garbage of the passes before is past its grace and deleted. */
    private void runUntilCollected(CompactionWorker worker, CompactionSettings settings) {
        worker.runOnce();
        f.clock.advance(settings.gcGrace().plusSeconds(1));
        worker.runOnce(); // marks what the first pass freed
        f.clock.advance(settings.gcGrace().plusSeconds(1));
        worker.runOnce(); // deletes it
    }

    /**
     * The test settings with a grace longer than any test moves its clock. An object's age is its file's time
     * (the real clock) seen from the worker's clock (moved ahead by the test): with the usual minute of grace,
     * a block or segment written a moment ago would look old enough to the collector to be condemned before
     * its commit or swap lands — which the commit or swap then refuses, safely, but the test would see it.
     */
    private static CompactionSettings longGrace() {
        CompactionSettings base = CompactionFixture.settings();
        return new CompactionSettings(base.interval(), base.minAge(), base.segmentBytes(), base.segmentChunkBytes(),
                base.smallSegmentBytes(), base.tierFanIn(), Duration.ofHours(1), base.historyKeep(), base.lockTtl(),
                base.compressionLevel(), base.maxStepsPerShard(), base.keyMapBytes(), base.minCleanableRatio());
    }

    @Test
    void manySmallBlocksMergeIntoFewSegmentsAndEveryRecordReadsTheSame() {
        Topic t = f.metadata.createTopic(new TopicConfig("logs", 4, -1, -1)).join();
        long ts = f.clock.millis();
        for (int b = 0; b < 30; b++) {
            Map<PartitionId, List<Rec>> block = new HashMap<>();
            for (int p = 0; p < 4; p++) {
                block.put(t.partition(p), recs("b" + b + "-p" + p + "-", 0, 5 + b % 3, ts + b * 10));
            }
            f.commit(block);
        }
        Map<Integer, LogReader.Log> before = new HashMap<>();
        for (int p = 0; p < 4; p++) {
            before.put(p, LogReader.read(f.metadata, f.objects, t.partition(p)));
        }
        assertThat(f.objectKeys()).hasSize(30);
        long shards = java.util.stream.IntStream.range(0, 4).map(p -> f.metadata.shardOf(t.partition(p))).distinct().count();
        assertThat(f.indexEntries()).as("one entry per block and shard").isEqualTo(30 * shards);

        CompactionSettings settings = CompactionFixture.settings();
        CompactionWorker worker = f.worker(settings);
        f.clock.advance(settings.minAge().plusSeconds(1));
        runUntilCollected(worker, settings);

        for (int p = 0; p < 4; p++) {
            assertThat(LogReader.read(f.metadata, f.objects, t.partition(p))).as("partition %d reads the same", p)
                    .isEqualTo(before.get(p));
        }
        assertThat(f.indexEntries()).as("one segment per partition").isEqualTo(4);
        assertThat(f.objectKeys()).hasSize(4).allMatch(k -> k.startsWith("segments/"));
        assertThat(worker.stats().bytesMerged()).isPositive();
        assertThat(worker.stats().objectsDeleted()).isEqualTo(30);
        assertThat(f.metadata.offsets(t.partition(0)).join().nextOffset()).isEqualTo(before.get(0).end());
    }

    @Test
    void aLogStartRaisedWhileAStepWritesItsSegmentsIsKeptAndTheStepStillSwapsIn() {
        Topic t = f.metadata.createTopic(new TopicConfig("purged", 1, -1, -1)).join();
        PartitionId p = t.partition(0);
        for (int b = 0; b < 10; b++) {
            f.commit(Map.of(p, recs("b" + b + "-", 0, 10, f.clock.millis())));
        }
        int shard = f.metadata.shardOf(p);
        java.util.concurrent.atomic.AtomicBoolean raised = new java.util.concurrent.atomic.AtomicBoolean();
        // DeleteRecords' write lands after the step was planned, while its segment is uploaded.
        io.strata.storage.object.ObjectStore raising = new io.strata.storage.object.ForwardingObjectStore(f.objects) {
            @Override
            public CompletableFuture<Void> put(ObjectKey key, ByteBuffer bytes) {
                if (key.value().startsWith("segments/") && raised.compareAndSet(false, true)) {
                    f.metadata.compaction().raiseLogStarts(shard, Map.of(p, 42L)).join();
                }
                return super.put(key, bytes);
            }
        };
        CompactionSettings settings = CompactionFixture.settings();
        CompactionWorker worker = new CompactionWorker(f.metadata, raising, settings, "w", f.clock);
        try {
            f.clock.advance(settings.minAge().plusSeconds(1));
            worker.runOnce();
        } finally {
            worker.close();
        }
        assertThat(raised).isTrue();
        assertThat(worker.stats().bytesMerged()).as("the merge was swapped in, not abandoned").isPositive();
        assertThat(f.metadata.offsets(p).join().logStartOffset()).as("the raised start, not the plan's").isEqualTo(42);
        assertThat(f.metadata.compaction().readShard(shard).join().entries()).allMatch(e -> e.isSegment());
    }

    @Test
    void aMergeReadsEachBlockOnceForAllPartitionsOfTheShard() {
        try (CompactionFixture one = new CompactionFixture(dir.resolve("one-shard"), 1)) {
            Topic t = one.metadata.createTopic(new TopicConfig("wide", 16, -1, -1)).join();
            for (int b = 0; b < 20; b++) {
                Map<PartitionId, List<Rec>> block = new HashMap<>();
                for (int p = 0; p < 16; p++) {
                    block.put(t.partition(p), recs("b" + b + "p" + p + "-", 0, 4, 1000));
                }
                one.commit(block);
            }
            io.strata.storage.object.CountingObjectStore counting =
                    new io.strata.storage.object.CountingObjectStore(one.objects);
            CompactionSettings settings = CompactionFixture.settings();
            CompactionWorker worker = new CompactionWorker(one.metadata, counting, settings, "w", one.clock);
            try {
                one.clock.advance(settings.minAge().plusSeconds(1));
                worker.runOnce();
            } finally {
                worker.close();
            }
            assertThat(one.indexEntries()).as("one segment per partition").isEqualTo(16);
            assertThat(counting.gets()).as("one GET per block, not one per block and partition").isEqualTo(20);
            assertThat(counting.puts()).isEqualTo(16);
        }
    }

    @Test
    void withTheBlockCacheABlockIsDownloadedOnceWhateverShardsItTouches() throws Exception {
        try (CompactionFixture eight = new CompactionFixture(dir.resolve("eight-shards"), 8)) {
            Topic t = eight.metadata.createTopic(new TopicConfig("wide", 16, -1, -1)).join();
            for (int b = 0; b < 20; b++) {
                Map<PartitionId, List<Rec>> block = new HashMap<>();
                for (int p = 0; p < 16; p++) {
                    block.put(t.partition(p), recs("b" + b + "p" + p + "-", 0, 4, 1000));
                }
                eight.commit(block);
            }
            long shards = java.util.stream.IntStream.range(0, 16).map(p -> eight.metadata.shardOf(t.partition(p)))
                    .distinct().count();
            assertThat(shards).isGreaterThan(1);
            io.strata.storage.object.CountingObjectStore counting =
                    new io.strata.storage.object.CountingObjectStore(eight.objects);
            io.strata.compaction.exec.WalBlockCache cache =
                    new io.strata.compaction.exec.WalBlockCache(counting, dir.resolve("block-cache"), 64 << 20);
            CompactionSettings settings = CompactionFixture.settings();
            CompactionWorker worker = new CompactionWorker(eight.metadata, counting, cache, settings, "w", eight.clock);
            Map<Integer, LogReader.Log> before = new HashMap<>();
            for (int p = 0; p < 16; p++) {
                before.put(p, LogReader.read(eight.metadata, eight.objects, t.partition(p)));
            }
            try {
                eight.clock.advance(settings.minAge().plusSeconds(1));
                worker.runOnce();
            } finally {
                worker.close();
            }
            for (int p = 0; p < 16; p++) {
                assertThat(LogReader.read(eight.metadata, eight.objects, t.partition(p))).isEqualTo(before.get(p));
            }
            assertThat(counting.gets()).as("%d shards read 20 blocks: one GET each", shards).isEqualTo(20);
            assertThat(cache.downloads()).isEqualTo(20);
            assertThat(cache.hits()).isPositive();
        }
    }

    @Test
    void youngBlocksWaitAndLaterBlocksJoinTheSmallSegmentBeforeThem() {
        Topic t = f.metadata.createTopic(new TopicConfig("slow", 1, -1, -1)).join();
        CompactionSettings settings = CompactionFixture.settings();
        CompactionWorker worker = f.worker(settings);
        f.commit(Map.of(t.partition(0), recs("a", 0, 10, 1000)));
        worker.runOnce();
        assertThat(f.indexEntries()).as("younger than min-age: left in the WAL").isEqualTo(1);
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();
        assertThat(f.metadata.compaction().readShard(f.metadata.shardOf(t.partition(0))).join().entries())
                .singleElement().matches(e -> e.isSegment());
        f.commit(Map.of(t.partition(0), recs("b", 0, 10, 2000)));
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();
        assertThat(f.metadata.compaction().readShard(f.metadata.shardOf(t.partition(0))).join().entries())
                .as("the small segment and the new block make one segment").singleElement()
                .matches(e -> e.isSegment() && e.segment().baseOffset() == 0 && e.segment().endOffset() == 20);
        assertThat(LogReader.read(f.metadata, f.objects, t.partition(0)).records()).extracting(LogReader.Record::value)
                .startsWith("a0", "a1").endsWith("b8", "b9").hasSize(20);
    }

    @Test
    void retentionByTimeDropsChunksWhoseNewestRecordExpiredAndMovesTheLogStart() {
        long now = f.clock.millis();
        Topic t = f.metadata.createTopic(new TopicConfig("timed", 1, 30_000, -1)).join();
        PartitionId p = t.partition(0);
        f.commit(Map.of(p, recs("old", 0, 5, now - 60_000)));
        f.commit(Map.of(p, recs("old", 5, 5, now - 50_000)));
        f.commit(Map.of(p, recs("new", 10, 5, now - 1_000)));
        CompactionSettings settings = CompactionFixture.settings();
        CompactionWorker worker = f.worker(settings);
        worker.runOnce();
        LogReader.Log log = LogReader.read(f.metadata, f.objects, p);
        assertThat(log.logStart()).isEqualTo(10);
        assertThat(log.records()).extracting(LogReader.Record::value).allMatch(v -> v.startsWith("new"));
        assertThat(f.metadata.offsets(p).join().logStartOffset()).isEqualTo(10);
        assertThat(f.metadata.offsets(p).join().nextOffset()).isEqualTo(15);
        f.clock.advance(Duration.ofMinutes(5));
        runUntilCollected(worker, settings);
        LogReader.Log later = LogReader.read(f.metadata, f.objects, p);
        assertThat(later.records()).as("everything expired").isEmpty();
        assertThat(later.logStart()).isEqualTo(15);
        assertThat(f.metadata.offsets(p).join().logStartOffset()).isEqualTo(15);
        assertThat(f.objectKeys()).as("nothing left to keep").isEmpty();
        assertThat(worker.stats().retentionLagMs()).isZero();
    }

    @Test
    void retentionBySizeKeepsAtLeastTheLimitAndAtMostOneChunkMoreEvenInsideASegment() {
        Topic t = f.metadata.createTopic(new TopicConfig("sized", 1, -1, -1)).join();
        PartitionId p = t.partition(0);
        java.util.Random random = new java.util.Random(3);
        for (int b = 0; b < 40; b++) {
            List<Rec> block = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                byte[] noise = new byte[100];
                random.nextBytes(noise);
                block.add(new Rec(null, b + "-" + java.util.HexFormat.of().formatHex(noise), 1000 + b));
            }
            f.commit(Map.of(p, block));
        }
        CompactionSettings settings = CompactionFixture.settings();
        CompactionWorker worker = f.worker(settings);
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce(); // one segment of 4 KiB chunks
        long stored = storedBytes(p);
        long limit = stored / 3;
        f.metadata.alterTopic("sized", new io.strata.metadata.TopicChange(java.util.OptionalLong.empty(),
                java.util.OptionalLong.of(limit), java.util.Optional.empty(), java.util.OptionalLong.empty())).join();
        worker.runOnce();
        long kept = storedBytes(p);
        assertThat(kept).isGreaterThanOrEqualTo(limit).isLessThanOrEqualTo(limit + settings.segmentChunkBytes() + 4096);
        LogReader.Log log = LogReader.read(f.metadata, f.objects, p);
        assertThat(log.logStart()).isPositive();
        assertThat(log.records().get(0).offset()).isEqualTo(log.logStart());
        assertThat(log.records().get(log.records().size() - 1).offset()).isEqualTo(40 * 20 - 1);
        assertThat(f.indexEntries()).as("the segment's entry was cut, not split").isEqualTo(1);
    }

    @Test
    void aPassWritesDownWhatEachPartitionStoresItsDelayedRecordsIncludedAndOnlyAgainOnceItChanges() {
        Topic t = f.metadata.createTopic(new TopicConfig("measured", 3, -1, -1)).join();
        long ts = f.clock.millis();
        for (int b = 0; b < 5; b++) {
            f.commit(Map.of(t.partition(0), recs("a", 0, 10, ts), t.partition(1), recs("b", 0, 3, ts),
                    t.partition(0).staging(), recs("later", 0, 4, ts)));
        }
        CompactionWorker worker = f.worker(CompactionFixture.settings());
        worker.runOnce();
        Map<PartitionId, Long> measured = measured();
        assertThat(measured.get(t.partition(0))).isPositive()
                .isEqualTo(referencedBytes(t.partition(0)) + referencedBytes(t.partition(0).staging()));
        assertThat(measured.get(t.partition(1))).isPositive().isEqualTo(referencedBytes(t.partition(1)));
        assertThat(measured).doesNotContainKey(t.partition(0).staging());
        long measuredAt = f.metadata.compaction().readSizes().join().stream()
                .filter(s -> s.shard() == f.metadata.shardOf(t.partition(1))).findFirst().orElseThrow().measuredAtMs();

        f.clock.advance(Duration.ofSeconds(40));
        worker.runOnce();
        assertThat(f.metadata.compaction().readSizes().join().stream()
                .filter(s -> s.shard() == f.metadata.shardOf(t.partition(1))).findFirst().orElseThrow().measuredAtMs())
                .as("unchanged sizes are not written again").isEqualTo(measuredAt);

        f.commit(Map.of(t.partition(1), recs("c", 0, 50, ts)));
        worker.runOnce();
        assertThat(measured().get(t.partition(1))).isEqualTo(referencedBytes(t.partition(1)))
                .isGreaterThan(measured.get(t.partition(1)));
    }

    private Map<PartitionId, Long> measured() {
        Map<PartitionId, Long> all = new HashMap<>();
        // A staging log may lie in another shard than its partition: each shard counts what it holds.
        f.metadata.compaction().readSizes().join().forEach(s -> s.bytes().forEach((p, b) -> all.merge(p, b, Long::sum)));
        return all;
    }

    /** The bytes the index references for exactly this partition (or staging log). */
    private long referencedBytes(PartitionId p) {
        return f.metadata.compaction().readShard(f.metadata.shardOf(p)).join().entries().stream()
                .mapToLong(e -> e.isSegment() ? (e.segment().partition().equals(p) ? e.segment().byteLength() : 0)
                        : e.chunks().stream().filter(c -> c.partition().equals(p)).mapToLong(c -> c.byteLength()).sum())
                .sum();
    }

    private long storedBytes(PartitionId p) {
        return f.metadata.compaction().readShard(f.metadata.shardOf(p)).join().entries().stream()
                .mapToLong(e -> e.isSegment() ? e.segment().byteLength()
                        : e.chunks().stream().filter(c -> c.partition().equals(p)).mapToLong(c -> c.byteLength()).sum())
                .sum();
    }

    @Test
    void aDeletedTopicLeavesNoIndexNoHeadAndAfterTheGraceNoObjects() {
        Topic gone = f.metadata.createTopic(new TopicConfig("gone", 3, -1, -1)).join();
        Topic stays = f.metadata.createTopic(new TopicConfig("stays", 1, -1, -1)).join();
        for (int b = 0; b < 5; b++) {
            f.commit(Map.of(gone.partition(b % 3), recs("g", 0, 5, 1000), stays.partition(0), recs("s", b * 5, 5, 1000)));
        }
        CompactionSettings settings = CompactionFixture.settings();
        CompactionWorker worker = f.worker(settings);
        f.metadata.deleteTopic("gone").join();
        worker.runOnce();
        for (int p = 0; p < 3; p++) {
            assertThat(LogReader.read(f.metadata, f.objects, gone.partition(p)).records()).isEmpty();
            assertThat(f.metadata.offsets(gone.partition(p)).join().nextOffset()).as("its head entry is gone").isZero();
        }
        assertThat(LogReader.read(f.metadata, f.objects, stays.partition(0)).records()).hasSize(25);
        f.clock.advance(settings.minAge().plusSeconds(1));
        runUntilCollected(worker, settings);
        assertThat(LogReader.read(f.metadata, f.objects, stays.partition(0)).records()).hasSize(25);
        assertThat(f.objectKeys()).singleElement().matches(k -> k.startsWith("segments/"));
        f.metadata.deleteTopic("stays").join();
        runUntilCollected(worker, settings);
        assertThat(f.objectKeys()).isEmpty();
        assertThat(f.indexEntries()).isZero();
        for (int s = 0; s < 8; s++) {
            assertThat(f.metadata.compaction().readShard(s).join().state().logStarts()).isEmpty();
        }
    }

    @Test
    void onAFreshClusterAStartedWorkerFirstCollectsGarbageHalfAGracePeriodIntoItsLife() throws Exception {
        Topic t = f.metadata.createTopic(new TopicConfig("t", 1, -1, -1)).join();
        f.commit(Map.of(t.partition(0), recs("a", 0, 3, 1000)));
        f.objects.put(ObjectKey.of("wal/aa/orphan-never-committed"), ByteBuffer.wrap(new byte[] {1, 2, 3})).join();
        CompactionSettings settings = CompactionFixture.settings();
        CompactionWorker worker = f.worker(settings);
        worker.start(); // its first scheduled pass is an interval away; runOnce passes now, on the same thread

        worker.runOnce();
        f.clock.advance(settings.interval().multipliedBy(2));
        worker.runOnce();
        assertThat(worker.stats().objectsListed()).as("nothing listed while nothing can be collected").isZero();
        f.clock.advance(settings.gcGrace().dividedBy(2));
        worker.runOnce();

        assertThat(worker.stats().objectsListed()).as("the bucket listed half a grace period in").isEqualTo(2);
    }

    @Test
    void onAnOlderClusterAStartedWorkerCollectsFromItsSecondPassNotItsFirst() throws Exception {
        CompactionSettings settings = CompactionFixture.settings();
        f.objects.put(ObjectKey.of("wal/aa/orphan-never-committed"), ByteBuffer.wrap(new byte[] {1, 2, 3})).join();
        f.clock.advance(settings.gcGrace().multipliedBy(3)); // the cluster has run a while; this node restarts
        CompactionWorker worker = f.worker(settings);
        worker.start();

        worker.runOnce(); // as the first pass, one interval after the start
        assertThat(worker.stats().objectsListed()).as("not in a restarted node's first pass").isZero();
        f.clock.advance(settings.interval().multipliedBy(2));
        worker.runOnce();

        assertThat(worker.stats().objectsListed()).as("from its second pass on").isEqualTo(1);
    }

    @Test
    void orphansAndCrashedWritesGoAfterTheGraceAndNothingReferencedEverDoes() throws Exception {
        Topic t = f.metadata.createTopic(new TopicConfig("t", 1, -1, -1)).join();
        String committed = f.commit(Map.of(t.partition(0), recs("a", 0, 3, 1000)));
        f.objects.put(ObjectKey.of("wal/aa/orphan-never-committed"), ByteBuffer.wrap(new byte[] {1, 2, 3})).join();
        Path tmp = Files.writeString(dir.resolve("objects/wal/aa/~tmp-crashed-put"), "half");
        Files.writeString(dir.resolve("objects/unknown-to-strata"), "not ours");
        CompactionSettings settings = CompactionFixture.settings();
        CompactionWorker worker = f.worker(settings);
        worker.runOnce();
        assertThat(f.objectKeys()).contains("wal/aa/orphan-never-committed");
        assertThat(f.metadata.compaction().readMarkers().join()).isEmpty();
        f.clock.advance(settings.gcGrace().plusSeconds(1));
        worker.runOnce(); // the committed block is merged into a segment in this pass, and both blocks are marked
        assertThat(f.metadata.compaction().readMarkers().join()).as("marked, not yet deleted")
                .containsOnlyKeys("wal/aa/orphan-never-committed", committed);
        assertThat(f.objectKeys()).contains("wal/aa/orphan-never-committed", committed);
        f.clock.advance(settings.gcGrace().plusSeconds(1));
        worker.runOnce();
        assertThat(f.objectKeys()).hasSize(2).contains("unknown-to-strata")
                .anyMatch(k -> k.startsWith("segments/"));
        assertThat(tmp).doesNotExist();
        assertThat(LogReader.read(f.metadata, f.objects, t.partition(0)).records()).hasSize(3);
        f.clock.advance(CompactionSettings.COMMIT_WINDOW.plusMinutes(1));
        worker.runOnce();
        assertThat(f.metadata.compaction().readMarkers().join()).as("markers go once no commit can come").isEmpty();
    }

    @Test
    void twoWorkersAtOnceNeverWorkOnOneShardTogetherAndLoseNothing() throws Exception {
        Topic t = f.metadata.createTopic(new TopicConfig("shared", 8, -1, -1)).join();
        for (int b = 0; b < 20; b++) {
            Map<PartitionId, List<Rec>> block = new HashMap<>();
            for (int p = 0; p < 8; p++) {
                block.put(t.partition(p), recs("b" + b + "-", 0, 4, 1000));
            }
            f.commit(block);
        }
        Map<Integer, LogReader.Log> before = new HashMap<>();
        for (int p = 0; p < 8; p++) {
            before.put(p, LogReader.read(f.metadata, f.objects, t.partition(p)));
        }
        CompactionSettings settings = longGrace();
        CompactionWorker one = f.worker(settings);
        CompactionWorker two = f.worker(settings);
        f.clock.advance(settings.minAge().plusSeconds(1));
        CompletableFuture<Void> a = CompletableFuture.runAsync(one::runOnce);
        CompletableFuture<Void> b = CompletableFuture.runAsync(two::runOnce);
        CompletableFuture.allOf(a, b).join();
        one.runOnce();
        for (int p = 0; p < 8; p++) {
            assertThat(LogReader.read(f.metadata, f.objects, t.partition(p))).isEqualTo(before.get(p));
        }
        assertThat(f.indexEntries()).isEqualTo(8);
        assertThat(one.stats().conflicts() + two.stats().conflicts()).as("locks keep them apart").isZero();
    }

    @Test
    void commitsDuringCompactionAreKeptInOrder() throws Exception {
        Topic t = f.metadata.createTopic(new TopicConfig("busy", 2, -1, -1)).join();
        CompactionSettings settings = longGrace();
        CompactionWorker worker = f.worker(settings);
        List<String> expected = new ArrayList<>();
        for (int round = 0; round < 10; round++) {
            for (int b = 0; b < 5; b++) {
                f.commit(Map.of(t.partition(0), recs("r" + round + "b" + b + "-", 0, 3, 1000)));
                for (int i = 0; i < 3; i++) {
                    expected.add("r" + round + "b" + b + "-" + i);
                }
            }
            CompletableFuture<Void> pass = CompletableFuture.runAsync(worker::runOnce);
            f.commit(Map.of(t.partition(0), recs("during" + round + "-", 0, 2, 1000)));
            expected.add("during" + round + "-0");
            expected.add("during" + round + "-1");
            pass.join();
            f.clock.advance(Duration.ofSeconds(20));
        }
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();
        LogReader.Log log = LogReader.read(f.metadata, f.objects, t.partition(0));
        assertThat(log.records()).extracting(LogReader.Record::value).containsExactlyElementsOf(expected);
        assertThat(log.records()).extracting(LogReader.Record::offset).containsExactlyElementsOf(
                java.util.stream.LongStream.range(0, expected.size()).boxed().toList());
    }
}
