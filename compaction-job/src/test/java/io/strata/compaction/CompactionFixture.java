package io.strata.compaction;

import io.strata.testkit.MutableClock;

import io.strata.format.BlockWriter;
import io.strata.format.ChunkEntry;
import io.strata.format.LogRecord;
import io.strata.format.SealedBlock;
import io.strata.metadata.BlockChunk;
import io.strata.metadata.ChunkCommit;
import io.strata.metadata.ProducerBatch;
import io.strata.metadata.BlockCommit;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.PartitionId;
import io.strata.storage.object.ObjectInfo;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.local.LocalObjectStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An embedded metadata store and a local object store (both product adapters) in a directory, a clock the
 * test moves, and a way to write and commit blocks as an ingest node does.
 */
final class CompactionFixture implements AutoCloseable {
    MetadataStore metadata;
    private final Path dir;
    private final int shards;
    final LocalObjectStore objects;
    final MutableClock clock = new MutableClock(System.currentTimeMillis());
    private final AtomicInteger blocks = new AtomicInteger();
    private final List<CompactionWorker> workers = new ArrayList<>();

    CompactionFixture(Path dir, int shards) {
        this(dir, shards, false);
    }

    /** With {@code commitsOnTestClock}, commits are timed by the test's clock instead of the real one. */
    CompactionFixture(Path dir, int shards, boolean commitsOnTestClock) {
        this.dir = dir;
        this.shards = shards;
        metadata = commitsOnTestClock
                ? io.strata.metadata.KvMetadataStore.open(io.strata.metadata.embedded.EmbeddedKvStore.open(
                        dir.resolve("metadata")), "", shards, clock, Duration.ofSeconds(10))
                : MetadataStores.embedded(dir.resolve("metadata"), shards);
        objects = new LocalObjectStore(dir.resolve("objects"));
    }

    /**
     * A fixture whose store takes at most {@code maxTxnOps} operations a transaction, as an etcd started with
     * {@code --max-txn-ops} does: one swap then replaces few segments, so short logs show what long ones do.
     */
    static CompactionFixture withMaxTxnOps(Path dir, int shards, int maxTxnOps) {
        CompactionFixture f = new CompactionFixture(dir, shards);
        f.metadata.close();
        f.metadata = io.strata.metadata.KvMetadataStore.open(new io.strata.metadata.kv.ForwardingKvStore(
                io.strata.metadata.embedded.EmbeddedKvStore.open(dir.resolve("metadata"))) {
            @Override
            public int maxTxnOps() {
                return maxTxnOps;
            }
        }, "", shards, f.clock, Duration.ofSeconds(10));
        return f;
    }

    /** Settings for tests: small segments and chunks, everything older than a minute merged, a minute's grace. */
    static CompactionSettings settings() {
        return new CompactionSettings(Duration.ofSeconds(1), Duration.ofMinutes(1), 1 << 20, 4096, 64 << 10, 4,
                Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofSeconds(10), 1, 50, 1L << 20, 0.5);
    }

    CompactionWorker worker(CompactionSettings settings) {
        CompactionWorker worker = new CompactionWorker(metadata, objects, settings, "w" + workers.size(), clock);
        workers.add(worker);
        return worker;
    }

    /** A record as a test writes it: key, value and timestamp. */
    record Rec(String key, String value, long timestampMs) {
        LogRecord toLog() {
            return new LogRecord(key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                    value.getBytes(StandardCharsets.UTF_8), List.of(), timestampMs);
        }
    }

    /** Writes one block with these records per partition, uploads and commits it at the clock's time. */
    String commit(Map<PartitionId, List<Rec>> byPartition) {
        return commit(byPartition, p -> List.of()).get(0).objectKey();
    }

    /**
     * Writes, uploads and commits one block whose chunks carry these idempotent producer batches; answers what
     * the commit did with each chunk.
     */
    List<ChunkCommitted> commit(Map<PartitionId, List<Rec>> byPartition,
                                java.util.function.Function<PartitionId, List<ProducerBatch>> batches) {
        BlockWriter writer = new BlockWriter(1);
        byPartition.forEach((p, recs) -> recs.forEach(r -> writer.append(p.topicId(), p.partition(), r.toLog())));
        SealedBlock sealed = writer.seal();
        String key = String.format("wal/%02x/test-%08d", blocks.get() % 256, blocks.incrementAndGet());
        objects.put(ObjectKey.of(key), sealed.bytes()).join();
        List<BlockChunk> chunks = new ArrayList<>();
        for (ChunkEntry c : sealed.chunks()) {
            PartitionId partition = new PartitionId(c.topicId(), c.partition());
            chunks.add(new BlockChunk(partition, c.recordCount(), c.byteOffset(), c.byteLength(),
                    c.uncompressedLength(), c.minTimestampMs(), c.maxTimestampMs(), c.crc32c(), batches.apply(partition)));
        }
        List<ChunkCommit> commits = metadata.commitBlock(new BlockCommit(key, sealed.sizeBytes(), chunks)).join();
        return commits.stream().map(c -> new ChunkCommitted(key, c)).toList();
    }

    /** A chunk's commit, with the block's object key. */
    record ChunkCommitted(String objectKey, ChunkCommit commit) {
    }

    /**
     * Closes the metadata store and opens it again (commits on the test's clock), as a restarted node does:
     * whatever it kept in memory is gone.
     */
    MetadataStore reopenMetadata() {
        metadata.close();
        metadata = io.strata.metadata.KvMetadataStore.open(io.strata.metadata.embedded.EmbeddedKvStore.open(
                dir.resolve("metadata")), "", shards, clock, Duration.ofSeconds(10));
        return metadata;
    }

    List<String> objectKeys() {
        return objects.list("").join().stream().map(ObjectInfo::key).map(ObjectKey::value).toList();
    }

    int indexEntries() {
        int n = 0;
        for (int s = 0; s < metadata.cluster().shards(); s++) {
            n += metadata.compaction().readShard(s).join().entries().size();
        }
        return n;
    }

    @Override
    public void close() {
        workers.forEach(CompactionWorker::close);
        objects.close();
        metadata.close();
    }
}
