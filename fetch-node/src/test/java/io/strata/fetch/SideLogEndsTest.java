package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.fetch.index.IndexView;
import io.strata.fetch.index.SideLogEnds;
import io.strata.format.BlockWriter;
import io.strata.format.LogRecord;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.PartitionOffsets;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The side logs' offsets a delay or half worker reads each pass: from the store only where the index watch saw a
 * write (or could not have), so partitions that never get a delayed or half message cost the store nothing.
 */
class SideLogEndsTest extends ReadPathFixture {
    /** No sweep within a test: what is read is what the watch told of. */
    private static final java.time.Duration NO_SWEEP = java.time.Duration.ofDays(1);
    /** The side logs each {@code offsets} call of a counted store read, call by call. */
    private final List<List<PartitionId>> reads = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** The fixture's store, noting the side-log reads. */
    private MetadataStore counted() {
        return counted(reads);
    }

    private MetadataStore counted(List<List<PartitionId>> into) {
        return intercepted((method, args, real) -> {
            if (method.equals("offsets") && args[0] instanceof List<?> list) {
                into.add(list.stream().map(PartitionId.class::cast).toList());
            }
            return real.get();
        });
    }

    private int partitionsRead() {
        return reads.stream().mapToInt(List::size).sum();
    }

    private void append(Topic t, PartitionId log, int records) {
        BlockWriter writer = new BlockWriter(3);
        for (int i = 0; i < records; i++) {
            writer.append(t.topicId(), log.partition(),
                    new LogRecord(null, ("s" + i).getBytes(StandardCharsets.UTF_8), List.of(), 1000 + i));
        }
        commitBlock(writer);
    }

    private void stage(Topic t, int partition, int records) {
        append(t, t.partition(partition).staging(), records);
    }

    /** Calls {@code of} until the partition's side log shows {@code end} (the watch tells of a commit a moment later). */
    private Map<PartitionId, PartitionOffsets> awaitEnd(SideLogEnds ends, List<PartitionId> partitions, PartitionId p,
                                                        long end) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            Map<PartitionId, PartitionOffsets> found = ends.of(partitions, 10);
            if (found.containsKey(p) && found.get(p).nextOffset() >= end) {
                return found;
            }
            assertThat(System.nanoTime()).as("the side log of " + p + " reached " + end).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void anOlderTopicsSideLogsAreReadOnceThenOnlyWhenTheWatchSeesOneWritten() throws Exception {
        SideLogEnds ends = SideLogEnds.staging(counted(), index, NO_SWEEP, System::nanoTime);
        List<PartitionId> all = List.of(topic.partition(0), topic.partition(1), topic.partition(2));
        assertThat(ends.of(all, 10)).as("nothing staged yet").isEmpty();
        assertThat(reads).as("a topic older than the watch: read once")
                .containsExactly(all.stream().map(PartitionId::staging).toList());
        for (int i = 0; i < 5; i++) {
            assertThat(ends.of(all, 10)).isEmpty();
        }
        assertThat(reads).as("nothing written since: nothing read").hasSize(1);

        commit(Map.of(1, List.of("a", "b")), 1000); // the partition itself, not its staging log
        stage(topic, 2, 4);
        Map<PartitionId, PartitionOffsets> found = awaitEnd(ends, all, topic.partition(2), 4);
        assertThat(found).containsOnlyKeys(topic.partition(2));
        assertThat(found.get(topic.partition(2)).partition()).isEqualTo(topic.partition(2).staging());
        assertThat(reads).as("only the staging log written was read again, once").hasSize(2);
        assertThat(reads.get(1)).containsExactly(topic.partition(2).staging());
        assertThat(ends.of(all, 10).get(topic.partition(2)).nextOffset()).as("as last read").isEqualTo(4);
        assertThat(reads).hasSize(2);
    }

    @Test
    void aTopicYoungerThanTheWatchIsNotReadUntilItsSideLogIsWritten() throws Exception {
        SideLogEnds ends = SideLogEnds.staging(counted(), index, NO_SWEEP, System::nanoTime);
        ends.of(List.of(topic.partition(0)), 10);
        Topic young = metadata.createTopic(new TopicConfig("young", 4, -1, -1)).join();
        List<PartitionId> all = List.of(young.partition(0), young.partition(1), young.partition(2), young.partition(3));
        assertThat(ends.of(all, 10)).isEmpty();
        assertThat(reads).as("every write to it is seen: nothing to read").hasSize(1);

        stage(young, 3, 2);
        assertThat(awaitEnd(ends, all, young.partition(3), 2)).containsOnlyKeys(young.partition(3));
        assertThat(reads.subList(1, reads.size())).containsExactly(List.of(young.partition(3).staging()));
    }

    @Test
    void aHalfLogWriteIsReadAsAHalfLogAndNotAsAStagingLog() throws Exception {
        List<List<PartitionId>> stagingReads = new java.util.concurrent.CopyOnWriteArrayList<>();
        SideLogEnds staging = SideLogEnds.staging(counted(stagingReads), index, NO_SWEEP, System::nanoTime);
        SideLogEnds halves = SideLogEnds.halves(counted(), index, NO_SWEEP, System::nanoTime);
        staging.of(List.of(topic.partition(0)), 10);
        halves.of(List.of(topic.partition(0)), 10);
        stagingReads.clear();
        Topic young = metadata.createTopic(new TopicConfig("young", 2, -1, -1)).join();
        List<PartitionId> all = List.of(young.partition(0), young.partition(1));
        append(young, young.partition(1).half(), 3);
        Map<PartitionId, PartitionOffsets> found = awaitEnd(halves, all, young.partition(1), 3);
        assertThat(found.get(young.partition(1)).partition()).isEqualTo(young.partition(1).half());
        // The watch tells both listeners of an entry at once: a staging mark would be there by now.
        assertThat(staging.of(all, 10)).isEmpty();
        assertThat(stagingReads).as("a half log is no staging log of delayed records").isEmpty();
    }

    @Test
    void aWriteWhileTheWatchIsLostIsFoundAtOnceAndOlderSideLogsAreReadAgainOnceItIsBack() throws Exception {
        // A view of its own, whose watch is set again only when the test lets its timer run.
        java.util.concurrent.ScheduledExecutorService held = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        java.util.concurrent.CountDownLatch letGo = new java.util.concurrent.CountDownLatch(1);
        IndexView view = new IndexView(metadata, held);
        try {
            view.start().join();
            SideLogEnds ends = SideLogEnds.staging(counted(), view, NO_SWEEP, System::nanoTime);
            List<PartitionId> all = List.of(topic.partition(0), topic.partition(1));
            List<PartitionId> staging = all.stream().map(PartitionId::staging).toList();
            ends.of(all, 10);
            ends.of(all, 10);
            assertThat(reads).hasSize(1);
            long starts = view.watchStarts();
            held.execute(() -> {
                try {
                    letGo.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            view.onReset(new IllegalStateException("watch lost (test)")); // set again once the timer runs
            stage(topic, 1, 2); // no watch tells of this one
            assertThat(ends.of(all, 10)).as("found at once: while no watch stands, everything is read")
                    .containsOnlyKeys(topic.partition(1));
            assertThat(reads.get(reads.size() - 1)).isEqualTo(staging);
            ends.of(all, 10);
            assertThat(reads).as("and again at the next call").hasSize(3);

            letGo.countDown();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (view.watchStarts() == starts || !view.watching()) {
                assertThat(System.nanoTime()).as("the watch was set again").isLessThan(deadline);
                Thread.sleep(20);
            }
            ends.of(all, 10);
            assertThat(reads).as("everything read once more when the watch is back").hasSize(4);
            assertThat(reads.get(3)).isEqualTo(staging);
            ends.of(all, 10);
            assertThat(reads).as("and then nothing").hasSize(4);

            IndexView unwatched = new IndexView(metadata, timer);
            try {
                SideLogEnds blind = SideLogEnds.staging(counted(), unwatched, NO_SWEEP, System::nanoTime);
                blind.of(all, 10);
                blind.of(all, 10);
                assertThat(reads).as("without a watch nothing seen counts").hasSize(6);
            } finally {
                unwatched.close();
            }
        } finally {
            view.close();
            held.shutdownNow();
        }
    }

    @Test
    void theSideLogsOfDeletedTopicsAreForgottenAndThoseOfTopicsNewerThanTheListingKept() throws Exception {
        SideLogEnds ends = SideLogEnds.staging(counted(), index, NO_SWEEP, System::nanoTime);
        ends.of(List.of(topic.partition(0)), 10);
        Topic gone = metadata.createTopic(new TopicConfig("gone", 1, -1, -1)).join();
        Topic young = metadata.createTopic(new TopicConfig("young", 1, -1, -1)).join();
        stage(gone, 0, 1);
        stage(young, 0, 3);
        awaitEnd(ends, List.of(gone.partition(0)), gone.partition(0), 1);
        awaitEnd(ends, List.of(young.partition(0)), young.partition(0), 3);
        assertThat(ends.kept()).isEqualTo(3);

        assertThat(metadata.deleteTopic("gone").join()).isTrue();
        long upTo = metadata.lastTopicId().join();
        Set<Long> live = new java.util.HashSet<>();
        metadata.listTopics().join().forEach(t -> live.add(t.topicId()));
        ends.forgetTopics(live, upTo);
        assertThat(ends.kept()).as("the deleted topic's side log is forgotten").isEqualTo(2);
        // A listing taken before "young" was created: its id is past the listing's, so it stays.
        ends.forgetTopics(Set.of(topic.topicId()), topic.topicId());
        assertThat(ends.kept()).isEqualTo(2);
        int before = reads.size();
        assertThat(ends.of(List.of(young.partition(0)), 10).get(young.partition(0)).nextOffset()).isEqualTo(3);
        assertThat(reads).as("kept as read").hasSize(before);
    }

    @Test
    void everySideLogIsReadAgainBySweepASliceAtATimeAndACallAfterAPauseTakesEverySliceItMissed() throws Exception {
        java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong();
        java.time.Duration slice = java.time.Duration.ofSeconds(1);
        SideLogEnds ends = SideLogEnds.staging(counted(), index, slice, clock::get);
        ends.of(List.of(topic.partition(0)), 10);
        // Younger than the watch and never written: only the sweep reads it.
        Topic wide = metadata.createTopic(new TopicConfig("wide", 256, -1, -1)).join();
        List<PartitionId> all = java.util.stream.IntStream.range(0, 256).mapToObj(wide::partition).toList();
        reads.clear();
        Set<PartitionId> swept = new java.util.HashSet<>();
        for (int s = 1; s <= 64; s++) {
            clock.addAndGet(slice.toNanos());
            ends.of(all, 10);
            assertThat(reads).as("one slice a second").hasSize(s);
            assertThat(reads.get(s - 1)).hasSize(256 / 64);
            ends.of(all, 10);
            assertThat(reads).as("and nothing more within it").hasSize(s);
            swept.addAll(reads.get(s - 1));
        }
        assertThat(swept).as("every side log in 64 slices").hasSize(256);

        // Called every two and a half slices (a slow pass): the slices in between are taken too.
        reads.clear();
        swept.clear();
        for (int call = 0; call < 26; call++) {
            clock.addAndGet(slice.toNanos() * 5 / 2);
            ends.of(all, 10);
            reads.forEach(swept::addAll);
        }
        assertThat(swept).as("every side log within 64 slices, however far apart the calls").hasSize(256);
        reads.clear();
        clock.addAndGet(slice.toNanos() * 1000);
        ends.of(all, 10);
        assertThat(reads).singleElement().as("after a whole sweep's pause: everything").satisfies(r ->
                assertThat(r).hasSize(256));
    }
}
