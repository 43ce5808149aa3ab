package io.strata.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.format.LogRecord;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.OneWriteTransaction;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import io.strata.storage.object.local.LocalObjectStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A transaction chained to one in the open block (a pipelined producer's next: docs/transactions.md) goes into the
 * next block once the open one is sealed, and not at all when its call was answered meanwhile.
 */
class ChainedAppendTest {
    @TempDir
    Path dir;

    private static List<PartitionBatch> one(Topic topic, String value) {
        return List.of(new PartitionBatch(0, topic.name(), topic.partition(0),
                List.of(new LogRecord(null, value.getBytes(), List.of(), 1_700_000_000_000L))));
    }

    @Test
    void aChainedTransactionWaitsForItsPredecessorsBlockToBeSealedAndNeverLandsAfterItsAnswer() throws Exception {
        IngestSettings settings = new IngestSettings(4L << 20, Duration.ofMinutes(5), 64L << 20, Duration.ofSeconds(5),
                1 << 20, 8 << 20, Duration.ofMinutes(10), 3, "chained", 4, IngestSettings.DEFAULT_PUT_HEDGE_AFTER,
                IngestSettings.DEFAULT_PUT_HEDGE_QUANTILE, false); // blocks wait for their linger (or a flush)
        try (MetadataStore metadata = MetadataStores.embedded(dir.resolve("metadata"), 4);
             LocalObjectStore objects = new LocalObjectStore(dir.resolve("objects"));
             IngestPipeline pipeline = new IngestPipeline(settings, objects, metadata, Clock.systemUTC())) {
            Topic topic = metadata.createTopic(new TopicConfig("t", 1, -1, -1)).join();
            OneWriteTransaction first = new OneWriteTransaction("c", 1, 1, 5, new byte[] {1});
            OneWriteTransaction second = OneWriteTransaction.chainedTo(first, 2, new byte[] {2});
            OneWriteTransaction third = OneWriteTransaction.chainedTo(second, 3, new byte[] {3});

            CompletableFuture<Void> firstIn = new CompletableFuture<>();
            pipeline.append(one(topic, "first"), true, firstIn, first);
            assertThat(firstIn).isDone();
            CompletableFuture<Void> secondIn = new CompletableFuture<>();
            pipeline.append(one(topic, "second"), true, secondIn, second);
            Thread.sleep(200);
            assertThat(secondIn).as("waiting for the block holding its predecessor to be sealed").isNotDone();

            pipeline.flush().get(60, TimeUnit.SECONDS); // seals the first's block: the second goes into the next
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!secondIn.isDone() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(secondIn).isDone();
            assertThat(objects.list("wal/").join()).as("the first's block").hasSize(1);

            // The third's call answered (its time ran out) while it waits: it must not land after its answer.
            CompletableFuture<Void> thirdIn = new CompletableFuture<>();
            CompletableFuture<List<AppendResult>> thirdAnswer = pipeline.append(one(topic, "third"), true, thirdIn,
                    third);
            Thread.sleep(100);
            assertThat(thirdIn).isNotDone();
            thirdIn.complete(null);
            pipeline.flush().get(60, TimeUnit.SECONDS); // seals the second's block
            assertThatThrownBy(() -> thirdAnswer.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
            pipeline.flush().get(60, TimeUnit.SECONDS);
            assertThat(objects.list("wal/").join()).as("nothing of the third stored").hasSize(2);
            assertThat(pipeline.bufferedBytes()).isZero();
        }
    }
}
