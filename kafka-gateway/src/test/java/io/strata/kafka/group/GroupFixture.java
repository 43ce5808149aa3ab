package io.strata.kafka.group;

import io.strata.group.GroupCoordinator;
import io.strata.group.GroupSettings;
import io.strata.metadata.BlockChunk;
import io.strata.metadata.BlockCommit;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicCache;
import io.strata.metadata.TopicConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A group coordinator over the embedded metadata store with topic "t" of four partitions, each holding offsets
 * 0 to 99, for the Kafka door's group protocols.
 */
final class GroupFixture implements AutoCloseable {
    final MetadataStore metadata;
    final TopicCache topics;
    final GroupCoordinator coordinator;
    final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    final Topic topic;

    GroupFixture(Path dir) {
        metadata = MetadataStores.embedded(dir.resolve("metadata"), 8);
        topics = new TopicCache(metadata, Clock.systemUTC(), Duration.ofSeconds(1));
        coordinator = new GroupCoordinator(metadata, topics, (t, partition, ts) -> CompletableFuture.completedFuture(0L),
                new GroupSettings(Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofSeconds(10),
                        Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(10), 1_000));
        topic = metadata.createTopic(new TopicConfig("t", 4, -1, -1)).join();
        List<BlockChunk> chunks = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            chunks.add(new BlockChunk(topic.partition(p), 100, 8 + p * 100L, 100, 300, 1_000, 2_000, 0xC0FFEE));
        }
        metadata.commitBlock(new BlockCommit("wal/t", 600, chunks)).join();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        coordinator.close();
        metadata.close();
    }
}
