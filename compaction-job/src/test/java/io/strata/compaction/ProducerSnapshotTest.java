package io.strata.compaction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.compaction.CompactionFixture.Rec;
import io.strata.metadata.BatchOutcome;
import io.strata.metadata.KeyLayout;
import io.strata.metadata.PartitionId;
import io.strata.metadata.ProducerBatch;
import io.strata.metadata.ProducerSnapshotRef;
import io.strata.metadata.ProducerState;
import io.strata.metadata.ShardSnapshot;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import io.strata.metadata.codec.MetadataCodec;
import io.strata.storage.object.ObjectKey;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction merges away the commit entries that carry idempotent producers' batches; before it does, it
 * writes the shard's producer snapshot, so the producers' state outlives the entries (docs/architecture.md,
 * "Idempotence").
 */
class ProducerSnapshotTest {
    @TempDir
    Path dir;
    private CompactionFixture f;

    @BeforeEach
    void open() {
        f = new CompactionFixture(dir, 1, true); // commit times (producers' last writes) on the test's clock
    }

    @AfterEach
    void close() {
        f.close();
    }

    /** The fixture's settings with an hour of garbage grace and this producer state expiry. */
    private static CompactionSettings settings(Duration expiry) {
        CompactionSettings b = CompactionFixture.settings();
        return new CompactionSettings(b.interval(), b.minAge(), b.segmentBytes(), b.segmentChunkBytes(),
                b.smallSegmentBytes(), b.tierFanIn(), Duration.ofHours(1), b.historyKeep(), b.lockTtl(),
                b.compressionLevel(), b.maxStepsPerShard(), b.keyMapBytes(), b.minCleanableRatio(), b.minAge(), expiry);
    }

    private final Map<String, Long> nextSequence = new HashMap<>();
    /** Expected state: producer and partition to the stored batches, oldest first. */
    private final Map<String, List<ProducerState.Batch>> stored = new HashMap<>();

    /** One block in which each producer writes a batch of {@code records} records to each partition. */
    private void write(List<PartitionId> partitions, List<Long> producers, int records) {
        Map<PartitionId, List<Rec>> block = new HashMap<>();
        Map<PartitionId, List<ProducerBatch>> batches = new HashMap<>();
        for (PartitionId p : partitions) {
            List<Rec> recs = new ArrayList<>();
            List<ProducerBatch> pb = new ArrayList<>();
            for (long producer : producers) {
                String id = producer + "@" + p;
                long seq = nextSequence.getOrDefault(id, 0L);
                pb.add(new ProducerBatch(producer, seq, recs.size(), records));
                nextSequence.put(id, seq + records);
                for (int i = 0; i < records; i++) {
                    recs.add(new Rec(null, id + "#" + (seq + i), f.clock.millis()));
                }
            }
            block.put(p, recs);
            batches.put(p, pb);
        }
        for (CompactionFixture.ChunkCommitted c : f.commit(block, batches::get)) {
            List<ProducerBatch> pb = batches.get(c.commit().partition());
            for (int i = 0; i < pb.size(); i++) {
                long offset = ((BatchOutcome.Appended) c.commit().batches().get(i)).baseOffset();
                stored.computeIfAbsent(pb.get(i).producerId() + "@" + c.commit().partition(), k -> new ArrayList<>())
                        .add(new ProducerState.Batch(pb.get(i).baseSequence(), records, offset));
            }
        }
    }

    private ShardSnapshot shard() {
        return f.metadata.compaction().readShard(0).join();
    }

    private MetadataCodec.ProducerSnapshot snapshotOf(ProducerSnapshotRef ref) {
        ByteBuffer read = f.objects.get(ObjectKey.of(ref.objectKey())).join();
        assertThat(read.remaining()).isEqualTo((int) ref.length());
        return MetadataCodec.decodeProducerSnapshot(ref, read);
    }

    private void runUntilCollected(CompactionWorker worker, CompactionSettings settings) {
        worker.runOnce();
        f.clock.advance(settings.gcGrace().plusSeconds(1));
        worker.runOnce();
        f.clock.advance(settings.gcGrace().plusSeconds(1));
        worker.runOnce();
    }

    @Test
    void mergingAwayTheEntriesThatCarriedProducerBatchesKeepsTheProducersLastBatchesInASnapshot() {
        Topic t = f.metadata.createTopic(new TopicConfig("t", 2, -1, -1)).join();
        List<PartitionId> partitions = List.of(t.partition(0), t.partition(1));
        int commits = ProducerBatch.RETRY_WINDOW + 4; // producer 10 writes a batch in each: a window's worth is kept
        for (int b = 0; b < commits; b++) {
            write(partitions, List.of(1L + b % 3, 10L), 2 + b % 2);
        }
        assertThat(shard().entries()).allMatch(e -> !e.appends().isEmpty());
        CompactionSettings settings = settings(Duration.ofDays(1));
        CompactionWorker worker = f.worker(settings);
        f.clock.advance(settings.minAge().plusSeconds(1));
        runUntilCollected(worker, settings);

        ShardSnapshot after = shard();
        assertThat(after.entries()).as("merged into segments").allMatch(e -> e.isSegment());
        ProducerSnapshotRef ref = after.state().producers();
        assertThat(ref.hasObject()).isTrue();
        assertThat(ref.coversBefore()).as("every commit entry is covered").isEqualTo(commits);
        assertThat(f.objectKeys()).as("the collector keeps the snapshot it references").contains(ref.objectKey());
        MetadataCodec.ProducerSnapshot snapshot = snapshotOf(ref);
        assertThat(snapshot.states().size()).isEqualTo(8);
        for (PartitionId p : partitions) {
            for (long producer : List.of(1L, 2L, 3L, 10L)) {
                ProducerState state = snapshot.states().get(p, producer);
                List<ProducerState.Batch> batches = stored.get(producer + "@" + p);
                assertThat(state.lastSequence()).isEqualTo(nextSequence.get(producer + "@" + p) - 1);
                assertThat(state.recent()).as("producer %d in %s", producer, p)
                        .containsExactlyElementsOf(batches.subList(Math.max(0, batches.size() - ProducerBatch.RETRY_WINDOW),
                                batches.size()));
            }
        }
    }

    @Test
    void laterMergesFoldNewBatchesIntoANewSnapshotAndTheOldOneIsCollected() {
        Topic t = f.metadata.createTopic(new TopicConfig("t", 1, -1, -1)).join();
        List<PartitionId> partitions = List.of(t.partition(0));
        CompactionSettings settings = settings(Duration.ofDays(1));
        CompactionWorker worker = f.worker(settings);
        write(partitions, List.of(1L, 2L), 3);
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();
        ProducerSnapshotRef first = shard().state().producers();
        write(partitions, List.of(2L, 3L), 4);
        f.clock.advance(settings.minAge().plusSeconds(1));
        runUntilCollected(worker, settings);

        ProducerSnapshotRef second = shard().state().producers();
        assertThat(second.objectKey()).isNotEqualTo(first.objectKey());
        assertThat(second.coversBefore()).isEqualTo(2);
        assertThat(f.objectKeys()).contains(second.objectKey()).doesNotContain(first.objectKey());
        MetadataCodec.ProducerSnapshot snapshot = snapshotOf(second);
        PartitionId p = t.partition(0);
        assertThat(snapshot.states().get(p, 1L).recent()).containsExactlyElementsOf(stored.get("1@" + p));
        assertThat(snapshot.states().get(p, 2L).recent()).containsExactlyElementsOf(stored.get("2@" + p));
        assertThat(snapshot.states().get(p, 3L).lastSequence()).isEqualTo(3);
    }

    @Test
    void aProducerIdleLongerThanTheExpiryIsLeftOutOfTheNextSnapshot() {
        Topic t = f.metadata.createTopic(new TopicConfig("t", 1, -1, -1)).join();
        List<PartitionId> partitions = List.of(t.partition(0));
        CompactionSettings settings = settings(Duration.ofHours(3));
        CompactionWorker worker = f.worker(settings);
        write(partitions, List.of(1L), 3);
        f.clock.advance(Duration.ofHours(2));
        write(partitions, List.of(2L), 3);
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();
        assertThat(snapshotOf(shard().state().producers()).states().size()).isEqualTo(2);

        f.clock.advance(Duration.ofHours(2)); // producer 1 idle 4 h, producer 2 idle 2 h
        write(partitions, List.of(3L), 3);
        f.clock.advance(settings.minAge().plusSeconds(1));
        worker.runOnce();
        MetadataCodec.ProducerSnapshot snapshot = snapshotOf(shard().state().producers());
        assertThat(snapshot.states().get(t.partition(0), 1L)).isNull();
        assertThat(snapshot.states().get(t.partition(0), 2L)).isNotNull();
        assertThat(snapshot.states().get(t.partition(0), 3L)).isNotNull();
    }

    @Test
    void aRestartedStoreRecognisesARetryWhoseEntryWasMergedAwayFromTheSnapshot() {
        Topic t = f.metadata.createTopic(new TopicConfig("t", 1, -1, -1)).join();
        List<PartitionId> partitions = List.of(t.partition(0));
        for (int b = 0; b < 4; b++) {
            write(partitions, List.of(1L, 2L), 3);
        }
        CompactionSettings settings = settings(Duration.ofDays(1));
        f.clock.advance(settings.minAge().plusSeconds(1));
        f.worker(settings).runOnce();
        assertThat(shard().entries()).allMatch(e -> e.isSegment());
        write(partitions, List.of(2L), 3); // an entry the snapshot does not cover

        var store = f.reopenMetadata();
        PartitionId p = t.partition(0);
        assertThatThrownBy(() -> store.commitBlock(block(p, 1, 9, 3)).join())
                .as("without the object store, the state in the snapshot cannot be read: a clear failure, at once")
                .hasRootCauseInstanceOf(io.strata.metadata.MetadataException.class)
                .hasMessageContaining("given no object store");

        store.useProducerSnapshots(key -> f.objects.get(ObjectKey.of(key)), Duration.ofDays(1));
        long end = store.offsets(p).join().nextOffset();
        assertThat(end).as("the next offset, rebuilt from segments and entries").isEqualTo(4 * 2 * 3 + 3);
        assertThat(store.commitBlock(block(p, 1, 9, 3)).join().get(0).batches()).as("merged away, in the snapshot")
                .containsExactly(new BatchOutcome.Duplicate(stored.get("1@" + p).get(3).baseOffset()));
        assertThat(store.commitBlock(block(p, 2, 12, 3)).join().get(0).batches()).as("in an entry still there")
                .containsExactly(new BatchOutcome.Duplicate(stored.get("2@" + p).get(4).baseOffset()));
        assertThat(store.commitBlock(block(p, 1, 12, 3)).join().get(0).batches()).as("the next one")
                .containsExactly(new BatchOutcome.Appended(end));
        assertThat(store.commitBlock(block(p, 2, 20, 3)).join().get(0).batches()).singleElement()
                .isInstanceOfSatisfying(BatchOutcome.Rejected.class, r ->
                        assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.SEQUENCE_GAP));
    }

    private static io.strata.metadata.BlockCommit block(PartitionId p, long producer, long sequence, int records) {
        return new io.strata.metadata.BlockCommit("wal/retry-" + producer + "-" + sequence, 100, List.of(
                new io.strata.metadata.BlockChunk(p, records, 8, 50, 60, 1, 2, 7,
                        List.of(new ProducerBatch(producer, sequence, 0, records)))));
    }

    @Test
    void anEntryRewrittenWithoutADeletedTopicsChunkKeepsTheOtherProducersStateInTheSnapshot() {
        Topic gone = f.metadata.createTopic(new TopicConfig("gone", 1, -1, -1)).join();
        Topic kept = f.metadata.createTopic(new TopicConfig("kept", 1, -1, -1)).join();
        write(List.of(gone.partition(0), kept.partition(0)), List.of(1L, 2L), 2);
        f.metadata.deleteTopic("gone").join();
        CompactionSettings settings = settings(Duration.ofDays(1));
        f.worker(settings).runOnce(); // young: nothing merged, but the entry is rewritten without "gone"

        ShardSnapshot after = shard();
        assertThat(after.entries()).singleElement().satisfies(e -> {
            assertThat(e.sequence()).isGreaterThanOrEqualTo(KeyLayout.COMPACTION_SEQUENCE_BASE);
            assertThat(e.appends()).isEmpty();
            assertThat(e.chunks()).extracting(c -> c.partition()).containsExactly(kept.partition(0));
        });
        assertThat(after.state().producersCoverBefore()).isEqualTo(1);
        var store = f.reopenMetadata();
        store.useProducerSnapshots(key -> f.objects.get(ObjectKey.of(key)), Duration.ofDays(1));
        PartitionId p = kept.partition(0);
        assertThat(store.commitBlock(block(p, 2, 0, 2)).join().get(0).batches())
                .containsExactly(new BatchOutcome.Duplicate(stored.get("2@" + p).get(0).baseOffset()));
        assertThat(store.offsets(p).join().nextOffset()).isEqualTo(4);
    }

    @Test
    void withoutIdempotentProducersTheSnapshotIsEmptyAndNoObjectIsWritten() {
        Topic t = f.metadata.createTopic(new TopicConfig("t", 1, -1, -1)).join();
        for (int b = 0; b < 3; b++) {
            f.commit(Map.of(t.partition(0), List.of(new Rec(null, "v" + b, f.clock.millis()))));
        }
        CompactionSettings settings = settings(Duration.ofDays(1));
        f.clock.advance(settings.minAge().plusSeconds(1));
        f.worker(settings).runOnce();
        ProducerSnapshotRef ref = shard().state().producers();
        assertThat(ref.hasObject()).isFalse();
        assertThat(ref.coversBefore()).isEqualTo(3);
        assertThat(f.objectKeys()).noneMatch(k -> k.startsWith("producer-state/"));
        assertThat(KeyLayout.COMPACTION_SEQUENCE_BASE).isGreaterThan(ref.coversBefore());
    }
}
