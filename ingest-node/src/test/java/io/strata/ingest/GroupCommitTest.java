package io.strata.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.format.LogRecord;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import io.strata.storage.object.local.LocalObjectStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@code sealWhenIdle} (the local directory's default), a block seals as soon as no earlier one is on its
 * way: a lone call does not wait for the linger, and calls that arrive while a block uploads share the next one.
 */
class GroupCommitTest {
    private static final Duration LONG_LINGER = Duration.ofMinutes(5);

    @TempDir
    Path dir;

    private static IngestSettings settings(boolean sealWhenIdle) {
        return new IngestSettings(4L << 20, LONG_LINGER, 64L << 20, Duration.ofSeconds(5), 1 << 20, 8 << 20,
                Duration.ofMinutes(10), 3, "group-commit", 4, IngestSettings.DEFAULT_PUT_HEDGE_AFTER,
                IngestSettings.DEFAULT_PUT_HEDGE_QUANTILE, sealWhenIdle);
    }

    private static List<PartitionBatch> one(Topic topic, int i) {
        return List.of(new PartitionBatch(0, topic.name(), topic.partition(0),
                List.of(new LogRecord(null, ("r" + i).getBytes(), List.of(), 1_700_000_000_000L))));
    }

    @Test
    void aLoneCallIsStoredAtOnceAndCallsArrivingMeanwhileShareTheNextBlock() throws Exception {
        try (MetadataStore metadata = MetadataStores.embedded(dir.resolve("metadata"), 4);
             FaultInjectingObjectStore objects = new FaultInjectingObjectStore(new LocalObjectStore(dir.resolve("objects")));
             IngestPipeline pipeline = new IngestPipeline(settings(true), objects, metadata, Clock.systemUTC())) {
            Topic topic = metadata.createTopic(new TopicConfig("t", 1, -1, -1)).join();
            // Nothing on its way: sealed at once, long before the linger of five minutes.
            assertThat(pipeline.append(one(topic, 0), true).get(60, TimeUnit.SECONDS).get(0).baseOffset()).isZero();

            objects.holdNextPut();
            CompletableFuture<List<AppendResult>> first = pipeline.append(one(topic, 1), true);
            while (objects.heldPuts() == 0) {
                Thread.sleep(5); // the first block's PUT hangs: it is on its way
            }
            List<CompletableFuture<List<AppendResult>>> meanwhile = new ArrayList<>();
            for (int i = 2; i < 12; i++) {
                meanwhile.add(pipeline.append(one(topic, i), true));
            }
            objects.holdPuts(false);
            assertThat(first.get(60, TimeUnit.SECONDS).get(0).baseOffset()).isEqualTo(1);
            for (int i = 0; i < meanwhile.size(); i++) {
                assertThat(meanwhile.get(i).get(60, TimeUnit.SECONDS).get(0).baseOffset()).isEqualTo(2 + i);
            }
            assertThat(objects.list("wal/").join()).as("the ten calls that waited share one block").hasSize(3);
        }
    }

    @Test
    void aBlocksBufferRoomComesBackOnlyOnceItsLosingPutIsAnsweredToo() throws Exception {
        try (MetadataStore metadata = MetadataStores.embedded(dir.resolve("metadata"), 4);
             FaultInjectingObjectStore objects = new FaultInjectingObjectStore(new LocalObjectStore(dir.resolve("objects")));
             IngestPipeline pipeline = new IngestPipeline(settings(true), objects, metadata, Clock.systemUTC())) {
            Topic topic = metadata.createTopic(new TopicConfig("t", 1, -1, -1)).join();
            objects.holdNextPut(); // the first PUT hangs; its hedge, after 100 ms, is stored
            assertThat(pipeline.append(one(topic, 0), true).get(60, TimeUnit.SECONDS).get(0).baseOffset()).isZero();
            assertThat(objects.heldPuts()).isEqualTo(1);
            assertThat(pipeline.bufferedBytes()).as("the loser still reads the block's bytes").isPositive();
            objects.holdPuts(false);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (pipeline.bufferedBytes() > 0 && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertThat(pipeline.bufferedBytes()).isZero();
        }
    }

    @Test
    void withoutItACallWaitsForTheLingerOrAFullBlock() throws Exception {
        try (MetadataStore metadata = MetadataStores.embedded(dir.resolve("metadata"), 4);
             LocalObjectStore objects = new LocalObjectStore(dir.resolve("objects"));
             IngestPipeline pipeline = new IngestPipeline(settings(false), objects, metadata, Clock.systemUTC())) {
            Topic topic = metadata.createTopic(new TopicConfig("t", 1, -1, -1)).join();
            CompletableFuture<List<AppendResult>> lone = pipeline.append(one(topic, 0), true);
            Thread.sleep(500);
            assertThat(lone).as("waiting for the linger").isNotDone();
            pipeline.flush().get(60, TimeUnit.SECONDS);
            assertThat(lone.get(60, TimeUnit.SECONDS).get(0).baseOffset()).isZero();
        }
    }
}
