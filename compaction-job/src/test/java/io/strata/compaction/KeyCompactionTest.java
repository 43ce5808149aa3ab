package io.strata.compaction;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.compaction.CompactionFixture.Rec;
import io.strata.metadata.CleanupPolicy;
import io.strata.metadata.KeyCleaning;
import io.strata.metadata.PartitionId;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key-compacted topics on the embedded store and a local directory: what a cleaning keeps (the latest record
 * per key, at its offset), when tombstones go, and how far one cleaning reaches. Every expectation is
 * computed from the records as written, read back through {@link LogReader}.
 */
class KeyCompactionTest {
    @TempDir
    Path dir;
    private CompactionFixture f;
    private final CompactionSettings settings = CompactionFixture.settings();

    @BeforeEach
    void open() {
        f = new CompactionFixture(dir, 4);
    }

    @AfterEach
    void close() {
        f.close();
    }

    private Topic topic(String name, CleanupPolicy policy, long retentionMs, long deleteRetentionMs) {
        return f.metadata.createTopic(new TopicConfig(name, 1, retentionMs, -1, policy, deleteRetentionMs)).join();
    }

    /** The records a compacted log must keep: each key's latest, and the partition's last record. */
    private static List<LogReader.Record> latestPerKey(List<LogReader.Record> log) {
        Map<String, LogReader.Record> latest = new HashMap<>();
        for (LogReader.Record r : log) {
            if (r.key() != null) {
                latest.put(r.key(), r);
            }
        }
        List<LogReader.Record> kept = new ArrayList<>(latest.values());
        if (!kept.contains(log.get(log.size() - 1))) {
            kept.add(log.get(log.size() - 1));
        }
        kept.sort(java.util.Comparator.comparingLong(LogReader.Record::offset));
        return kept;
    }

    private KeyCleaning cleaning(PartitionId p) {
        return f.metadata.compaction().readShard(f.metadata.shardOf(p)).join().state().cleaning(p);
    }

    @Test
    void theLatestRecordOfEveryKeyStaysAtItsOffsetAndTheRestGo() {
        Topic t = topic("users", CleanupPolicy.COMPACT, -1, 60_000);
        PartitionId p = t.partition(0);
        long ts = f.clock.millis();
        Random random = new Random(3);
        for (int b = 0; b < 8; b++) {
            List<Rec> block = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                String key = i == 17 && b == 3 ? null : "user-" + random.nextInt(25);
                block.add(new Rec(key, "b" + b + "-" + i, ts + b));
            }
            f.commit(Map.of(p, block));
        }
        LogReader.Log before = LogReader.read(f.metadata, f.objects, p);
        CompactionWorker worker = f.worker(settings);
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();

        LogReader.Log after = LogReader.read(f.metadata, f.objects, p);
        assertThat(after.records()).as("each key's latest record, at its offset").isEqualTo(latestPerKey(before.records()));
        assertThat(after.records()).extracting(LogReader.Record::key).doesNotContainNull().doesNotHaveDuplicates();
        assertThat(after.end()).as("offsets never change").isEqualTo(before.end()).isEqualTo(320);
        assertThat(after.logStart()).isZero();
        assertThat(f.metadata.offsets(p).join().nextOffset()).isEqualTo(320);
        assertThat(cleaning(p).cleanedTo()).isEqualTo(320);
        assertThat(worker.stats().cleanings()).isEqualTo(1);
        assertThat(worker.stats().recordsCompactedAway()).isEqualTo(320 - after.records().size());
    }

    @Test
    void laterRecordsReplaceTheCleanedOnesOfTheirKeys() {
        Topic t = topic("prices", CleanupPolicy.COMPACT, -1, 60_000);
        PartitionId p = t.partition(0);
        CompactionWorker worker = f.worker(settings);
        List<LogReader.Record> written = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            List<Rec> block = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                block.add(new Rec("sku-" + (i * 7 + round) % 20, "r" + round + "-" + i, f.clock.millis()));
            }
            f.commit(Map.of(p, block));
            f.clock.advance(settings.minAge().plusSeconds(1));
            worker.runOnce();
            LogReader.Log now = LogReader.read(f.metadata, f.objects, p);
            written.addAll(block.stream().map(r -> new LogReader.Record(written.size() + block.indexOf(r), r.key(),
                    r.value(), r.timestampMs())).toList());
            assertThat(now.records()).as("round %d", round).isEqualTo(latestPerKey(written));
        }
        assertThat(cleaning(p).cleanedTo()).isEqualTo(90);
    }

    @Test
    void aTombstoneStaysForItsDeleteRetentionThenItsKeyIsGone() {
        Topic t = topic("accounts", CleanupPolicy.COMPACT, -1, 120_000);
        PartitionId p = t.partition(0);
        long ts = f.clock.millis();
        f.commit(Map.of(p, List.of(new Rec("alice", "1", ts), new Rec("bob", "2", ts), new Rec("carol", "3", ts))));
        f.commit(Map.of(p, List.of(new Rec("alice", "", ts + 1), new Rec("bob", "4", ts + 1), new Rec("dave", "5", ts + 1))));
        CompactionWorker worker = f.worker(settings);
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();
        assertThat(LogReader.read(f.metadata, f.objects, p).records())
                .extracting(r -> r.key() + "=" + r.value()).containsExactly("carol=3", "alice=", "bob=4", "dave=5");
        assertThat(cleaning(p).oldestTombstoneMs()).isEqualTo(ts + 1);

        f.clock.advance(Duration.ofSeconds(30)); // 91 s after the tombstone was written
        worker.runOnce();
        assertThat(LogReader.read(f.metadata, f.objects, p).records()).extracting(LogReader.Record::key)
                .as("not before its delete retention").contains("alice");
        assertThat(worker.stats().cleanings()).isEqualTo(1);

        f.clock.advance(Duration.ofSeconds(60));
        worker.runOnce();
        LogReader.Log log = LogReader.read(f.metadata, f.objects, p);
        assertThat(log.records()).extracting(r -> r.offset() + ":" + r.key() + "=" + r.value())
                .containsExactly("2:carol=3", "4:bob=4", "5:dave=5");
        assertThat(log.end()).isEqualTo(6);
        assertThat(cleaning(p).oldestTombstoneMs()).isEqualTo(KeyCleaning.NO_TOMBSTONE);
        assertThat(worker.stats().tombstonesRemoved()).isEqualTo(1);
        worker.runOnce();
        assertThat(worker.stats().cleanings()).as("nothing due any more").isEqualTo(2);
    }

    @Test
    void compactAndDeleteAlsoExpiresByTime() {
        Topic t = topic("sessions", CleanupPolicy.COMPACT_DELETE, 120_000, 60_000);
        PartitionId p = t.partition(0);
        long ts = f.clock.millis();
        f.commit(Map.of(p, List.of(new Rec("s1", "a", ts - 300_000), new Rec("s2", "b", ts - 300_000))));
        f.commit(Map.of(p, List.of(new Rec("s1", "c", ts), new Rec("s1", "d", ts), new Rec("s3", "e", ts))));
        CompactionWorker worker = f.worker(settings);
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();
        LogReader.Log log = LogReader.read(f.metadata, f.objects, p);
        assertThat(log.logStart()).as("the expired block went first").isEqualTo(2);
        assertThat(log.records()).extracting(r -> r.key() + "=" + r.value()).containsExactly("s1=d", "s3=e");
    }

    @Test
    void cleaningsOverSeveralSegmentsKeepEveryKeysLatestRecordAtItsOffset() {
        CompactionSettings small = new CompactionSettings(settings.interval(), settings.minAge(),
                settings.segmentBytes(), settings.segmentChunkBytes(), 16 << 10, settings.tierFanIn(),
                settings.gcGrace(), settings.historyKeep(), settings.lockTtl(), settings.compressionLevel(),
                settings.maxStepsPerShard(), 64 << 10, 0.5);
        Topic t = topic("wide", CleanupPolicy.COMPACT, -1, 60_000);
        PartitionId p = t.partition(0);
        CompactionWorker worker = f.worker(small);
        Random random = new Random(5);
        List<LogReader.Record> written = new ArrayList<>();
        for (int b = 0; b < 4; b++) {
            List<Rec> block = new ArrayList<>();
            for (int i = 0; i < 1_500; i++) {
                byte[] noise = new byte[60];
                random.nextBytes(noise);
                Rec r = new Rec("key-" + random.nextInt(4_000), b + "-" + i + "-"
                        + java.util.HexFormat.of().formatHex(noise), f.clock.millis());
                block.add(r);
                written.add(new LogReader.Record(written.size(), r.key(), r.value(), r.timestampMs()));
            }
            f.commit(Map.of(p, block));
            f.clock.advance(small.minAge().plusSeconds(1));
            worker.runOnce();
        }
        LogReader.Log log = LogReader.read(f.metadata, f.objects, p);
        assertThat(log.end()).isEqualTo(6_000);
        assertThat(log.records()).as("what stays is what was written at that offset").isSubsetOf(written);
        assertThat(log.records()).as("every key's latest record stays").containsAll(latestPerKey(written));
        long cleanedTo = cleaning(p).cleanedTo();
        assertThat(log.records().stream().filter(r -> r.offset() < cleanedTo).map(LogReader.Record::key))
                .as("the cleaned part holds each key once").doesNotHaveDuplicates();
        assertThat(worker.stats().cleanings()).isGreaterThanOrEqualTo(2);
        assertThat(cleanedTo).isGreaterThanOrEqualTo(3_000);
    }

    /** What a reader of the whole log sees as the table: each key's latest value, deleted keys absent. */
    private static Map<String, String> table(List<LogReader.Record> records) {
        Map<String, String> table = new java.util.TreeMap<>();
        for (LogReader.Record r : records) {
            if (r.key() != null && r.value().isEmpty()) {
                table.remove(r.key());
            } else if (r.key() != null) {
                table.put(r.key(), r.value());
            }
        }
        return table;
    }

    private static int segmentsOf(CompactionFixture f, PartitionId p) {
        return (int) f.metadata.compaction().readShard(f.metadata.shardOf(p)).join().entries().stream()
                .filter(e -> e.isSegment() && e.segment().partition().equals(p)).count();
    }

    /**
     * A log longer than one swap may replace (4 segments under 11 operations a transaction). A key deleted
     * while the log was short loses its tombstone after its delete retention. A key deleted after its value
     * was cleaned far behind stays deleted: its tombstone stays. Before, a cleaning's window reached back
     * only as far as one swap replaces, so that tombstone was dropped while an older value of its key stood
     * before the window, and the deleted value came back.
     */
    @Test
    void aDeletedKeyStaysDeletedWhereItsTombstoneCannotBeComparedWithTheWholeLogAndGoesWhereItCan() {
        f.close();
        f = CompactionFixture.withMaxTxnOps(dir.resolve("small-txns"), 4, 11);
        Topic t = topic("ledger", CleanupPolicy.COMPACT, -1, 60_000);
        PartitionId p = t.partition(0);
        CompactionSettings eager = new CompactionSettings(settings.interval(), settings.minAge(),
                settings.segmentBytes(), settings.segmentChunkBytes(), settings.smallSegmentBytes(),
                settings.tierFanIn(), settings.gcGrace(), settings.historyKeep(), settings.lockTtl(),
                settings.compressionLevel(), settings.maxStepsPerShard(), settings.keyMapBytes(), 0.01);
        CompactionWorker worker = f.worker(eager); // every new block is due for a cleaning
        Random random = new Random(11);
        List<LogReader.Record> written = new ArrayList<>();
        for (int b = 0; b < 15; b++) {
            if (b == 14) {
                f.clock.advance(Duration.ofMinutes(5)); // the tombstone's delete retention is long over
            }
            List<Rec> block = new ArrayList<>();
            if (b == 0) {
                block.add(new Rec("victim", "alive", f.clock.millis()));
                block.add(new Rec("early", "alive", f.clock.millis()));
            }
            if (b == 1) {
                block.add(new Rec("early", "", f.clock.millis())); // deleted while the log is short
            }
            if (b == 12) {
                block.add(new Rec("victim", "", f.clock.millis())); // deleted
            }
            for (int i = 0; i < 1_200; i++) {
                byte[] noise = new byte[600];
                random.nextBytes(noise);
                block.add(new Rec("k-" + b + "-" + i, java.util.HexFormat.of().formatHex(noise), f.clock.millis()));
            }
            f.commit(Map.of(p, block));
            for (Rec r : block) {
                written.add(new LogReader.Record(written.size(), r.key(), r.value(), r.timestampMs()));
            }
            f.clock.advance(settings.minAge().plusSeconds(1));
            for (int pass = 0; pass < 3; pass++) {
                worker.runOnce();
            }
        }
        assertThat(segmentsOf(f, p)).as("more segments than one swap replaces").isGreaterThan(8);
        LogReader.Log log = LogReader.read(f.metadata, f.objects, p);
        assertThat(log.records()).as("what stays is what was written at that offset").isSubsetOf(written);
        Map<String, String> table = table(log.records());
        assertThat(table.get("victim")).as("the deleted key's value").isNull();
        assertThat(table).as("the table the log holds").isEqualTo(table(written));
        assertThat(log.records()).extracting(LogReader.Record::key).as("the tombstone compared with the whole log "
                + "before it went after its delete retention, and its key's value with it").doesNotContain("early")
                .as("the deleted key's records further back than a swap reaches stay, its tombstone with them")
                .contains("victim");
        assertThat(log.records().stream().filter(r -> "victim".equals(r.key())).map(LogReader.Record::value))
                .as("the value, then the tombstone").containsExactly("alive", "");
        assertThat(worker.stats().tombstonesRemoved()).isEqualTo(1);
        KeyCleaning cleaning = cleaning(p);
        assertThat(cleaning.comparedTo()).as("windows cleaned past where the start's reach compared")
                .isPositive().isLessThan(cleaning.cleanedTo());
    }
}
