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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The side logs' offsets a delay or half worker reads each pass: from the store only where the index watch saw a
 * write (or could not have), so partitions that never get a delayed or half message cost the store nothing.
 */
class SideLogEndsTest extends ReadPathFixture {
    private final AtomicInteger offsetReads = new AtomicInteger();
    private final AtomicInteger partitionsRead = new AtomicInteger();

    /** The fixture's store, counting the side-log reads. */
    private MetadataStore counted() {
        return intercepted((method, args, real) -> {
            if (method.equals("offsets") && args[0] instanceof List<?> list) {
                offsetReads.incrementAndGet();
                partitionsRead.addAndGet(list.size());
            }
            return real.get();
        });
    }

    private void stage(Topic t, int partition, int records) {
        BlockWriter writer = new BlockWriter(3);
        for (int i = 0; i < records; i++) {
            writer.append(t.topicId(), t.partition(partition).staging().partition(),
                    new LogRecord(null, ("s" + i).getBytes(StandardCharsets.UTF_8), List.of(), 1000 + i));
        }
        commitBlock(writer);
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
        SideLogEnds ends = SideLogEnds.staging(counted(), index);
        List<PartitionId> all = List.of(topic.partition(0), topic.partition(1), topic.partition(2));
        assertThat(ends.of(all, 10)).as("nothing staged yet").isEmpty();
        assertThat(partitionsRead.get()).as("a topic older than the watch: read once").isEqualTo(3);
        for (int i = 0; i < 5; i++) {
            assertThat(ends.of(all, 10)).isEmpty();
        }
        assertThat(offsetReads.get()).as("nothing written since: nothing read").isEqualTo(1);

        commit(Map.of(1, List.of("a", "b")), 1000); // the partition itself, not its staging log
        stage(topic, 2, 4);
        Map<PartitionId, PartitionOffsets> found = awaitEnd(ends, all, topic.partition(2), 4);
        assertThat(found).containsOnlyKeys(topic.partition(2));
        assertThat(found.get(topic.partition(2)).partition()).isEqualTo(topic.partition(2).staging());
        int read = partitionsRead.get();
        assertThat(read).as("only the staging log written was read again").isLessThanOrEqualTo(3 + 2);
        assertThat(ends.of(all, 10).get(topic.partition(2)).nextOffset()).as("as last read").isEqualTo(4);
        assertThat(partitionsRead.get()).isEqualTo(read);
    }

    @Test
    void aTopicYoungerThanTheWatchIsNotReadUntilItsSideLogIsWritten() throws Exception {
        SideLogEnds ends = SideLogEnds.staging(counted(), index);
        ends.of(List.of(topic.partition(0)), 10);
        int before = offsetReads.get();
        Topic young = metadata.createTopic(new TopicConfig("young", 4, -1, -1)).join();
        List<PartitionId> all = List.of(young.partition(0), young.partition(1), young.partition(2), young.partition(3));
        assertThat(ends.of(all, 10)).isEmpty();
        assertThat(offsetReads.get()).as("every write to it is seen: nothing to read").isEqualTo(before);

        stage(young, 3, 2);
        assertThat(awaitEnd(ends, all, young.partition(3), 2)).containsOnlyKeys(young.partition(3));
        assertThat(partitionsRead.get()).as("the one written, at most twice").isLessThanOrEqualTo(1 + 2);
    }

    @Test
    void aWatchSetAgainReadsEveryOlderSideLogOnceMoreAndNoWatchReadsEverythingEachTime() throws Exception {
        SideLogEnds ends = SideLogEnds.staging(counted(), index);
        List<PartitionId> all = List.of(topic.partition(0), topic.partition(1));
        ends.of(all, 10);
        ends.of(all, 10);
        assertThat(offsetReads.get()).isEqualTo(1);
        long starts = index.watchStarts();
        index.onReset(new IllegalStateException("watch lost (test)")); // writes meanwhile would go unseen
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (index.watchStarts() == starts) {
            assertThat(System.nanoTime()).as("the watch was set again").isLessThan(deadline);
            Thread.sleep(20);
        }
        ends.of(all, 10);
        ends.of(all, 10);
        assertThat(offsetReads.get()).as("read once more after the watch was set again").isEqualTo(2);

        IndexView unwatched = new IndexView(metadata, timer);
        try {
            SideLogEnds blind = SideLogEnds.staging(counted(), unwatched);
            blind.of(all, 10);
            blind.of(all, 10);
            assertThat(offsetReads.get()).as("without a watch nothing seen counts").isEqualTo(4);
        } finally {
            unwatched.close();
        }
    }

    @Test
    void theSideLogsOfDeletedTopicsAreForgottenAndThoseOfYoungerTopicsKept() throws Exception {
        SideLogEnds ends = SideLogEnds.staging(counted(), index);
        ends.of(List.of(topic.partition(0)), 10);
        Topic young = metadata.createTopic(new TopicConfig("young", 1, -1, -1)).join();
        stage(topic, 0, 1);
        stage(young, 0, 3);
        awaitEnd(ends, List.of(topic.partition(0)), topic.partition(0), 1);
        awaitEnd(ends, List.of(young.partition(0)), young.partition(0), 3);

        // Listed before "young" was created: its id is past the listing's, so it stays.
        ends.forgetTopics(Set.of(), topic.topicId());
        int read = partitionsRead.get();
        assertThat(ends.of(List.of(young.partition(0)), 10).get(young.partition(0)).nextOffset()).isEqualTo(3);
        assertThat(partitionsRead.get()).as("kept as read").isEqualTo(read);
        assertThat(ends.of(List.of(topic.partition(0)), 10).get(topic.partition(0)).nextOffset())
                .as("forgotten: an older topic's side log is read again").isEqualTo(1);
        assertThat(partitionsRead.get()).isEqualTo(read + 1);
    }
}
