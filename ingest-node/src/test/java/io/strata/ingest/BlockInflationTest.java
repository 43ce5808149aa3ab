package io.strata.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.format.BatchBuilder;
import io.strata.format.BatchCodec;
import io.strata.format.BatchInfo;
import io.strata.format.BlockFormat;
import io.strata.format.LogRecord;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import io.strata.storage.object.local.LocalObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Producers' batches are held compressed, so a block can hold far more than its size limit says once
 * inflated. A block is sealed before its records would inflate past the bound, so its chunks stay within the
 * format's limit and no call fails because of what other producers sent.
 */
class BlockInflationTest {
    @TempDir
    Path dir;

    @Test
    void veryCompressibleBatchesFromManyCallsAreSpreadOverBlocksAndAllStored() {
        int records = 8;
        BatchBuilder builder = new BatchBuilder();
        for (int i = 0; i < records; i++) {
            builder.append(new LogRecord(null, new byte[(1 << 20) - 64], List.of(), 1_700_000_000_000L));
        }
        ByteBuffer batch = builder.build(3);
        BatchInfo info = BatchCodec.validate(batch, 1 << 20);
        int calls = (int) (BlockFormat.MAX_UNCOMPRESSED_CHUNK / info.uncompressedLength()) + 2;
        IngestSettings settings = new IngestSettings(4L << 20, Duration.ofSeconds(30), 64L << 20,
                Duration.ofSeconds(5), 1 << 20, 8 << 20, Duration.ofSeconds(30), 3, "inflation", 4, IngestSettings.DEFAULT_PUT_HEDGE_AFTER,
                IngestSettings.DEFAULT_PUT_HEDGE_QUANTILE, false);
        try (MetadataStore metadata = MetadataStores.embedded(dir.resolve("metadata"), 4);
             LocalObjectStore objects = new LocalObjectStore(dir.resolve("objects"));
             IngestPipeline pipeline = new IngestPipeline(settings, objects, metadata, Clock.systemUTC())) {
            Topic topic = metadata.createTopic(new TopicConfig("t", 1, -1, -1)).join();
            List<CompletableFuture<List<AppendResult>>> answers = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                answers.add(pipeline.append(List.of(new PartitionBatch(0, "t", topic.partition(0), null,
                        batch.duplicate(), info, 0, 0)), true));
            }
            pipeline.flush().join();

            long base = 0;
            for (CompletableFuture<List<AppendResult>> answer : answers) {
                AppendResult result = answer.join().get(0);
                assertThat(result.baseOffset()).isEqualTo(base);
                base += records;
            }
            assertThat(metadata.offsets(topic.partition(0)).join().nextOffset()).isEqualTo((long) calls * records);
            assertThat(objects.list("wal/").join()).hasSizeGreaterThanOrEqualTo(3);
        }
    }
}
