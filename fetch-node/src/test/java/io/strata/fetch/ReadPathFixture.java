package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.OffsetSpec;
import io.strata.fetch.cache.ChunkCache;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.fetch.index.ChunkLocator;
import io.strata.fetch.index.IndexView;
import io.strata.fetch.index.SegmentFooters;
import io.strata.metadata.BlockChunk;
import io.strata.metadata.BlockCommit;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.PartitionId;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicCache;
import io.strata.metadata.TopicConfig;
import io.strata.format.BlockFormatException;
import io.strata.format.BlockWriter;
import io.strata.format.ChunkEntry;
import io.strata.format.LogRecord;
import io.strata.format.SealedBlock;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.local.LocalObjectStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read path over the embedded metadata store and a local object store (both product adapters): topic
 * "t" with 3 partitions, an index view, a chunk cache and a fetch handler, and a way to commit blocks.
 */
abstract class ReadPathFixture {
    @TempDir
    Path dir;
    protected MetadataStore metadata;
    protected LocalObjectStore objects;
    protected ScheduledExecutorService timer;
    protected IndexView index;
    protected ChunkCache cache;
    protected FetchHandler handler;
    protected SegmentFooters footers;
    protected Topic topic;
    private final AtomicInteger blocks = new AtomicInteger();

    @BeforeEach
    void startReadPath() {
        metadata = MetadataStores.embedded(dir.resolve("metadata"), 8);
        objects = new LocalObjectStore(dir.resolve("objects"));
        timer = Executors.newSingleThreadScheduledExecutor();
        topic = metadata.createTopic(new TopicConfig("t", 3, -1, -1)).join();
        index = new IndexView(metadata, timer);
        index.start().join();
        cache = new ChunkCache(objects, 64 << 20);
        footers = new SegmentFooters(objects, 100_000);
        handler = new FetchHandler(index, new ChunkLocator(footers), cache,
                new TopicCache(metadata, Clock.systemUTC(), Duration.ofSeconds(1)), p -> true, FetchSettings.defaults());
    }

    /** What a test does to one call of the metadata store: the real store's answer, or another. */
    @FunctionalInterface
    protected interface Interception {
        Object answer(String method, Object[] args, java.util.function.Supplier<Object> real);
    }

    /** The fixture's metadata store, each call of which goes through {@code interception} (a slow or stale store). */
    protected MetadataStore intercepted(Interception interception) {
        return (MetadataStore) java.lang.reflect.Proxy.newProxyInstance(MetadataStore.class.getClassLoader(),
                new Class<?>[] {MetadataStore.class}, (proxy, method, args) -> {
                    try {
                        return interception.answer(method.getName(), args, () -> {
                            try {
                                return method.invoke(metadata, args);
                            } catch (ReflectiveOperationException e) {
                                throw new IllegalStateException(e);
                            }
                        });
                    } catch (IllegalStateException e) {
                        if (e.getCause() instanceof java.lang.reflect.InvocationTargetException t) {
                            throw t.getCause();
                        }
                        throw e;
                    }
                });
    }

    @AfterEach
    void stopReadPath() {
        index.close();
        cache.close();
        timer.shutdownNow();
        objects.close();
        metadata.close();
    }

    /** Writes one block with the given records per partition (timestamps from {@code baseTs}), uploads and commits it. */
    protected String commit(Map<Integer, List<String>> byPartition, long baseTs) {
        return commit(topic, byPartition, baseTs);
    }

    /** The same for a topic of the test's own. */
    protected String commit(Topic topic, Map<Integer, List<String>> byPartition, long baseTs) {
        return commit(topic, byPartition, baseTs, null);
    }

    /** The same, every record tagged {@code tag} (a "tag" header) unless it is null. */
    protected String commit(Topic topic, Map<Integer, List<String>> byPartition, long baseTs, String tag) {
        BlockWriter writer = new BlockWriter(3);
        List<io.strata.format.RecordHeader> headers = tag == null ? List.of()
                : List.of(new io.strata.format.RecordHeader("tag", tag.getBytes(StandardCharsets.UTF_8)));
        byPartition.forEach((p, values) -> {
            for (int i = 0; i < values.size(); i++) {
                writer.append(topic.topicId(), p, new LogRecord(null, values.get(i).getBytes(StandardCharsets.UTF_8),
                        headers, baseTs + i));
            }
        });
        return commitBlock(writer);
    }

    /** Seals, uploads and commits the block. */
    protected String commitBlock(BlockWriter writer) {
        SealedBlock sealed = writer.seal();
        String key = "wal/00/test-" + blocks.incrementAndGet();
        objects.put(ObjectKey.of(key), sealed.bytes()).join();
        List<BlockChunk> chunks = new ArrayList<>();
        for (ChunkEntry c : sealed.chunks()) {
            chunks.add(new BlockChunk(new PartitionId(c.topicId(), c.partition()), c.recordCount(), c.byteOffset(),
                    c.byteLength(), c.uncompressedLength(), c.minTimestampMs(), c.maxTimestampMs(), c.crc32c()));
        }
        metadata.commitBlock(new BlockCommit(key, sealed.sizeBytes(), chunks)).join();
        return key;
    }

    protected static List<String> values(String prefix, int from, int count) {
        List<String> values = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            values.add(prefix + i);
        }
        return values;
    }

    /** Waits (10 s at most) for the index view to see the partition end at {@code end}. */
    protected void awaitEnd(int partition, long end) {
        long until = System.nanoTime() + 10_000_000_000L;
        PartitionId pid = topic.partition(partition);
        index.load(pid).join();
        while (index.partition(pid).endOffset() < end && System.nanoTime() < until) {
            index.awaitBeyond(pid, index.partition(pid).endOffset(), Duration.ofMillis(500)).join();
        }
        assertThat(index.partition(pid).endOffset()).isEqualTo(end);
    }

}
