package io.strata.compaction;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.compaction.CompactionFixture.Rec;
import io.strata.metadata.CleanupPolicy;
import io.strata.metadata.PartitionId;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random interleavings of commits, clock moves and compaction passes (with merges, retention cuts inside
 * segments, dead-segment rewrites and garbage collection), on the real worker over the embedded store and a
 * local directory, checked after every pass against a model of what was written: without retention every
 * partition reads exactly as written; with retention it reads as a suffix of it, its start never moves
 * back, and no record younger than the retention is gone. Once writes stop and the clock passes min-age,
 * no WAL chunk is left and no unreferenced object outlives the grace.
 */
class CompactionPropertiesTest {
    private static final int PARTITIONS = 3;

    /** One thing that happens: commit (records per partition), move the clock (seconds), or a pass. */
    record Action(int kind, int[] records, int seconds) {
        @Override
        public String toString() {
            return switch (kind) {
                case 0 -> "commit" + java.util.Arrays.toString(records);
                case 1 -> "advance " + seconds + "s";
                default -> "pass";
            };
        }
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Action> commit = Arbitraries.integers().between(0, 40).array(int[].class).ofSize(PARTITIONS)
                .map(r -> new Action(0, r, 0));
        Arbitrary<Action> advance = Arbitraries.integers().between(1, 120).map(s -> new Action(1, null, s));
        Arbitrary<Action> pass = Arbitraries.just(new Action(2, null, 0));
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, commit), net.jqwik.api.Tuple.of(3, advance), net.jqwik.api.Tuple.of(3, pass))
                .list().ofMinSize(5).ofMaxSize(40);
    }

    /** Retention: none, by time (ms), by size (bytes), or both. */
    @Provide
    Arbitrary<long[]> retention() {
        return Combinators.combine(Arbitraries.of(-1L, 30_000L, 90_000L, 300_000L),
                Arbitraries.of(-1L, 2_000L, 6_000L, 20_000L)).as((ms, bytes) -> new long[] {ms, bytes});
    }

    @Property(tries = 40)
    void withoutRetentionEveryPartitionReadsExactlyAsWritten(@ForAll("actions") List<Action> actions) throws Exception {
        check(actions, new long[] {-1, -1}, CleanupPolicy.DELETE);
    }

    @Property(tries = 30)
    void keyCompactionKeepsEveryKeysLatestRecordAtItsOffset(@ForAll("actions") List<Action> actions) throws Exception {
        check(actions, new long[] {-1, -1}, CleanupPolicy.COMPACT);
    }

    @Property(tries = 40)
    void withRetentionEveryPartitionIsASuffixThatKeepsWhatIsYoung(@ForAll("actions") List<Action> actions,
                                                                  @ForAll("retention") long[] retention)
            throws Exception {
        check(actions, retention, CleanupPolicy.DELETE);
    }

    private void check(List<Action> actions, long[] retention, CleanupPolicy policy) throws IOException {
        Path dir = Files.createTempDirectory("compaction-properties");
        try (CompactionFixture f = new CompactionFixture(dir, 2)) {
            CompactionSettings base = CompactionFixture.settings();
            // Small segments and chunks, so a few hundred records make several of each and retention cuts inside.
            CompactionSettings settings = new CompactionSettings(base.interval(), Duration.ofSeconds(30), 1 << 20,
                    1024, 2048, 2, Duration.ofSeconds(45), base.historyKeep(), base.lockTtl(), 1, 50, 1L << 20, 0.5);
            Topic t = f.metadata.createTopic(new TopicConfig("t", PARTITIONS, retention[0], retention[1],
                    policy, 60_000)).join();
            CompactionWorker worker = f.worker(settings);
            Map<Integer, List<LogReader.Record>> written = new HashMap<>();
            long[] starts = new long[PARTITIONS];
            int sequence = 0;
            for (Action a : actions) {
                switch (a.kind()) {
                    case 0 -> {
                        Map<PartitionId, List<Rec>> block = new HashMap<>();
                        for (int p = 0; p < PARTITIONS; p++) {
                            List<LogReader.Record> model = written.computeIfAbsent(p, k -> new ArrayList<>());
                            for (int i = 0; i < a.records()[p]; i++) {
                                Rec r = new Rec("k" + sequence % 5, "v" + sequence++ + "-" + "x".repeat(40),
                                        f.clock.millis());
                                block.computeIfAbsent(t.partition(p), k -> new ArrayList<>()).add(r);
                                model.add(new LogReader.Record(model.size(), r.key(), r.value(), r.timestampMs()));
                            }
                        }
                        if (!block.isEmpty()) {
                            f.commit(block);
                        }
                    }
                    case 1 -> f.clock.advance(Duration.ofSeconds(a.seconds()));
                    default -> {
                        worker.runOnce();
                        verify(f, t, written, starts, retention, policy);
                    }
                }
            }
            // Past min-age and every retention: what the passes below change, nothing later changes again.
            f.clock.advance(Duration.ofSeconds(400));
            for (int i = 0; i < 4; i++) {
                worker.runOnce();
                verify(f, t, written, starts, retention, policy);
                f.clock.advance(settings.gcGrace().plusSeconds(1));
            }
            assertThat(f.metadata.compaction().readShard(0).join().entries()).allMatch(e -> e.isSegment());
            assertThat(f.metadata.compaction().readShard(1).join().entries()).allMatch(e -> e.isSegment());
            for (int p = 0; p < PARTITIONS; p++) {
                int partition = p;
                long entries = f.metadata.compaction().readShard(f.metadata.shardOf(t.partition(p))).join().entries()
                        .stream().filter(e -> e.isSegment() ? e.segment().partition().equals(t.partition(partition))
                                : e.chunks().stream().anyMatch(c -> c.partition().equals(t.partition(partition))))
                        .count();
                // Merged: no WAL chunk left, and at most one segment per size tier (fan-in 2, tiers from 2 KiB to
                // half of 1 MiB) besides the small one.
                assertThat(entries).as("partition %d settles in a few segments", p).isLessThanOrEqualTo(10);
            }
            if (policy.compacts() && written.values().stream().anyMatch(m -> m.size() > 1)) {
                assertThat(worker.stats().cleanings()).as("key compaction ran").isPositive();
            }
            assertThat(f.objectKeys()).as("every object left is referenced")
                    .allMatch(k -> referenced(f).contains(k));
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static java.util.Set<String> referenced(CompactionFixture f) {
        java.util.Set<String> keys = new java.util.HashSet<>();
        for (int s = 0; s < f.metadata.cluster().shards(); s++) {
            f.metadata.compaction().readShard(s).join().entries().forEach(e -> keys.add(e.objectKey()));
        }
        return keys;
    }

    private static void verify(CompactionFixture f, Topic t, Map<Integer, List<LogReader.Record>> written,
                               long[] starts, long[] retention, CleanupPolicy policy) {
        for (int p = 0; p < PARTITIONS; p++) {
            List<LogReader.Record> model = written.getOrDefault(p, List.of());
            LogReader.Log log = LogReader.read(f.metadata, f.objects, t.partition(p));
            assertThat(log.end()).as("partition %d ends where it was written to", p).isEqualTo(model.size());
            if (policy.compacts()) {
                Map<String, LogReader.Record> latest = new HashMap<>();
                model.forEach(r -> latest.put(r.key(), r));
                assertThat(log.records()).as("partition %d: what stays is as written", p).isSubsetOf(model)
                        .containsAll(latest.values());
                if (!model.isEmpty()) {
                    assertThat(log.records()).as("and its last record stays").endsWith(model.get(model.size() - 1));
                }
                continue;
            }
            if (retention[0] < 0 && retention[1] < 0) {
                assertThat(log.logStart()).isZero();
                assertThat(log.records()).as("partition %d reads exactly as written", p).isEqualTo(model);
                continue;
            }
            assertThat(log.logStart()).as("partition %d's start never moves back", p).isGreaterThanOrEqualTo(starts[p]);
            starts[p] = log.logStart();
            assertThat(log.records()).as("partition %d is a suffix of what was written", p)
                    .isEqualTo(model.subList((int) Math.min(log.logStart(), model.size()), model.size()));
            if (retention[0] > 0 && retention[1] < 0) { // size retention may cut young records too
                long cutoff = f.clock.millis() - retention[0];
                assertThat(model.stream().filter(r -> r.timestampMs() >= cutoff))
                        .as("partition %d keeps what is younger than its retention", p)
                        .allMatch(r -> r.offset() >= log.logStart());
            }
            if (retention[1] > 0 && retention[0] < 0 && !model.isEmpty()) {
                assertThat(log.records()).as("partition %d keeps something under size retention", p).isNotEmpty();
            }
        }
    }
}
