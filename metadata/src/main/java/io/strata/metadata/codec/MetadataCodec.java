package io.strata.metadata.codec;

import com.google.protobuf.InvalidProtocolBufferException;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.CleanupPolicy;
import io.strata.metadata.GcMarker;
import io.strata.metadata.SegmentRef;
import io.strata.metadata.KeyCleaning;
import io.strata.metadata.ShardState;
import io.strata.metadata.ClusterInfo;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.ProducerAppend;
import io.strata.metadata.ProducerSnapshotRef;
import io.strata.metadata.ProducerState;
import io.strata.metadata.ProducerStates;
import io.strata.metadata.MetadataException;
import io.strata.metadata.NodeInfo;
import io.strata.metadata.PartitionId;
import io.strata.metadata.SkippedRange;
import io.strata.metadata.Topic;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * Domain records to and from the protobuf values of {@code values.proto}. A value that does not decode is
 * a corrupt store, reported as a non-retryable {@link MetadataException} naming the key.
 */
public final class MetadataCodec {
    private MetadataCodec() {
    }

    @FunctionalInterface
    interface Parser<T> {
        T parse(byte[] bytes) throws InvalidProtocolBufferException;
    }

    /** Decodes a value, reporting one that does not decode as a corrupt store naming the key. */
    static <T> T parse(String key, byte[] bytes, Parser<T> parser) {
        try {
            return parser.parse(bytes);
        } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            throw new MetadataException("corrupt metadata value at " + key + ": " + e.getMessage(), false, e);
        }
    }

    public static byte[] encode(ClusterInfo c) {
        return ClusterValue.newBuilder().setClusterId(c.clusterId()).setShards(c.shards())
                .setCreatedAtMs(c.createdAtMs()).build().toByteArray();
    }

    public static ClusterInfo decodeCluster(String key, byte[] bytes) {
        return parse(key, bytes, b -> {
            ClusterValue v = ClusterValue.parseFrom(b);
            return new ClusterInfo(v.getClusterId(), v.getShards(), v.getCreatedAtMs());
        });
    }

    public static byte[] encode(Topic t) {
        return TopicValue.newBuilder().setName(t.name()).setTopicId(t.topicId()).setPartitions(t.partitions())
                .setRetentionMs(t.retentionMs()).setRetentionBytes(t.retentionBytes())
                .setCreatedAtMs(t.createdAtMs()).setCleanupPolicy(t.cleanupPolicy().ordinal())
                .setDeleteRetentionMs(t.deleteRetentionMs()).build().toByteArray();
    }

    public static Topic decodeTopic(String key, byte[] bytes) {
        return parse(key, bytes, b -> {
            TopicValue v = TopicValue.parseFrom(b);
            CleanupPolicy[] policies = CleanupPolicy.values();
            if (v.getCleanupPolicy() < 0 || v.getCleanupPolicy() >= policies.length) {
                throw new IllegalArgumentException("cleanup policy " + v.getCleanupPolicy());
            }
            return new Topic(v.getName(), v.getTopicId(), v.getPartitions(), v.getRetentionMs(),
                    v.getRetentionBytes(), v.getCreatedAtMs(), policies[v.getCleanupPolicy()],
                    v.getDeleteRetentionMs() == 0 ? Topic.DEFAULT_DELETE_RETENTION_MS : v.getDeleteRetentionMs());
        });
    }

    public static byte[] encodeCounter(long lastId) {
        return CounterValue.newBuilder().setLastId(lastId).build().toByteArray();
    }

    public static long decodeCounter(String key, byte[] bytes) {
        return parse(key, bytes, b -> CounterValue.parseFrom(b).getLastId());
    }

    /**
     * The first two bytes of a head as written since heads hold only the shard's sequence: not valid protobuf
     * (field 31, wire type 7), so a node of an earlier version, which took each partition's next offset from
     * the head and would find none, fails to read it and commits nothing instead of assigning offsets from 0
     * (a rolling upgrade fences the old nodes off the shards the new ones have committed to).
     */
    private static final byte[] HEAD_MAGIC = {(byte) 0xFF, 0x01};

    public static byte[] encodeHead(long nextSequence) {
        byte[] value = ShardHeadValue.newBuilder().setNextSequence(nextSequence).build().toByteArray();
        byte[] bytes = new byte[HEAD_MAGIC.length + value.length];
        System.arraycopy(HEAD_MAGIC, 0, bytes, 0, HEAD_MAGIC.length);
        System.arraycopy(value, 0, bytes, HEAD_MAGIC.length, value.length);
        return bytes;
    }

    /** A head as written now, or as an earlier version wrote it (whose partitions are then ignored). */
    public static ShardHeadValue decodeHead(String key, byte[] bytes) {
        if (bytes.length >= HEAD_MAGIC.length && bytes[0] == HEAD_MAGIC[0]) {
            if (bytes[1] != HEAD_MAGIC[1]) {
                throw new MetadataException("the head at " + key + " was written by a later version of Strata "
                        + "(format " + bytes[1] + "); upgrade this node", false);
            }
            return parse(key, java.util.Arrays.copyOfRange(bytes, HEAD_MAGIC.length, bytes.length),
                    ShardHeadValue::parseFrom);
        }
        return parse(key, bytes, ShardHeadValue::parseFrom);
    }

    public static byte[] encode(IndexEntry entry) {
        IndexEntryValue.Builder v = IndexEntryValue.newBuilder().setObjectKey(entry.objectKey())
                .setCommittedAtMs(entry.committedAtMs());
        SegmentRef s = entry.segment();
        if (s != null) {
            v.setSegment(SegmentValue.newBuilder().setTopicId(s.partition().topicId())
                    .setPartition(s.partition().partition()).setBaseOffset(s.baseOffset()).setEndOffset(s.endOffset())
                    .setFirstChunk(s.firstChunk()).setChunkCount(s.chunkCount()).setByteOffset(s.byteOffset())
                    .setByteLength(s.byteLength()).setUncompressedBytes(s.uncompressedBytes())
                    .setRecordCount(s.recordCount()).setMinTimestampMs(s.minTimestampMs())
                    .setMaxTimestampMs(s.maxTimestampMs()).setFooterOffset(s.footerOffset())
                    .setFooterLength(s.footerLength()).setFooterCrc32C(s.footerCrc32c()));
        }
        for (ChunkRef c : entry.chunks()) {
            v.addChunks(ChunkValue.newBuilder().setTopicId(c.partition().topicId())
                    .setPartition(c.partition().partition()).setBaseOffset(c.baseOffset())
                    .setRecordCount(c.recordCount()).setByteOffset(c.byteOffset()).setByteLength(c.byteLength())
                    .setUncompressedLength(c.uncompressedLength()).setMinTimestampMs(c.minTimestampMs())
                    .setMaxTimestampMs(c.maxTimestampMs()).setCrc32C(c.crc32c())
                    .setStoredRecordCount(c.skipped().isEmpty() ? 0 : c.storedRecordCount())
                    .addAllSkipped(c.skipped().stream().map(r -> SkippedRangeValue.newBuilder()
                            .setFirstPosition(r.firstPosition()).setCount(r.count()).build()).toList()));
        }
        for (ProducerAppend a : entry.appends()) {
            v.addAppends(ProducerAppendValue.newBuilder().setTopicId(a.partition().topicId())
                    .setPartition(a.partition().partition()).setProducerId(a.producerId())
                    .setBaseSequence(a.baseSequence()).setRecordCount(a.recordCount()).setBaseOffset(a.baseOffset())
                    .setEpoch(a.epoch()));
        }
        return v.build().toByteArray();
    }

    public static IndexEntry decodeIndexEntry(String key, int shard, long sequence, byte[] bytes) {
        return parse(key, bytes, b -> {
            IndexEntryValue v = IndexEntryValue.parseFrom(b);
            List<ChunkRef> chunks = new ArrayList<>(v.getChunksCount());
            var seen = new HashSet<PartitionId>();
            for (ChunkValue c : v.getChunksList()) {
                PartitionId p = new PartitionId(c.getTopicId(), c.getPartition());
                if (!seen.add(p)) {
                    throw new IllegalArgumentException("two chunks of " + p);
                }
                List<SkippedRange> skipped = c.getSkippedList().stream()
                        .map(r -> new SkippedRange(r.getFirstPosition(), r.getCount())).toList();
                int stored = c.getStoredRecordCount() == 0 ? c.getRecordCount() : c.getStoredRecordCount();
                chunks.add(new ChunkRef(p, v.getObjectKey(), c.getBaseOffset(), c.getRecordCount(),
                        c.getByteOffset(), c.getByteLength(), c.getUncompressedLength(), c.getMinTimestampMs(),
                        c.getMaxTimestampMs(), c.getCrc32C(), stored, skipped));
            }
            List<ProducerAppend> appends = new ArrayList<>(v.getAppendsCount());
            for (ProducerAppendValue a : v.getAppendsList()) {
                appends.add(new ProducerAppend(new PartitionId(a.getTopicId(), a.getPartition()), a.getProducerId(),
                        a.getBaseSequence(), a.getRecordCount(), a.getBaseOffset(), a.getEpoch()));
            }
            if (v.hasSegment()) {
                SegmentValue g = v.getSegment();
                SegmentRef segment = new SegmentRef(new PartitionId(g.getTopicId(), g.getPartition()), v.getObjectKey(),
                        g.getBaseOffset(), g.getEndOffset(), g.getFirstChunk(), g.getChunkCount(), g.getByteOffset(),
                        g.getByteLength(), g.getUncompressedBytes(), g.getRecordCount(), g.getMinTimestampMs(),
                        g.getMaxTimestampMs(), g.getFooterOffset(), g.getFooterLength(), g.getFooterCrc32C());
                return IndexEntry.segment(shard, sequence, v.getCommittedAtMs(), segment, appends);
            }
            return new IndexEntry(shard, sequence, v.getObjectKey(), v.getCommittedAtMs(), chunks, appends);
        });
    }

    public static byte[] encode(ShardState state) {
        ShardStateValue.Builder v = ShardStateValue.newBuilder().setNextSequence(state.nextSequence());
        state.logStarts().entrySet().stream()
                .sorted(java.util.Map.Entry.comparingByKey(java.util.Comparator.comparingLong(PartitionId::topicId)
                        .thenComparingInt(PartitionId::partition)))
                .forEach(e -> v.addLogStarts(LogStartValue.newBuilder().setTopicId(e.getKey().topicId())
                        .setPartition(e.getKey().partition()).setLogStartOffset(e.getValue())));
        state.cleanings().entrySet().stream()
                .sorted(java.util.Map.Entry.comparingByKey(java.util.Comparator.comparingLong(PartitionId::topicId)
                        .thenComparingInt(PartitionId::partition)))
                .forEach(e -> {
                    KeyCleaningValue.Builder c = KeyCleaningValue.newBuilder().setTopicId(e.getKey().topicId())
                            .setPartition(e.getKey().partition()).setCleanedTo(e.getValue().cleanedTo())
                            .setComparedTo(e.getValue().comparedTo());
                    if (e.getValue().oldestTombstoneMs() != KeyCleaning.NO_TOMBSTONE) {
                        c.setHasTombstone(true).setOldestTombstoneMs(e.getValue().oldestTombstoneMs());
                    }
                    v.addCleanings(c);
                });
        ProducerSnapshotRef p = state.producers();
        if (p != null) {
            v.setProducers(ProducerSnapshotRefValue.newBuilder().setObjectKey(p.objectKey())
                    .setCoversBefore(p.coversBefore()).setLength(p.length()).setCrc32C(p.crc32c()));
        }
        return v.build().toByteArray();
    }

    public static ShardState decodeShardState(String key, byte[] bytes) {
        return parse(key, bytes, b -> {
            ShardStateValue v = ShardStateValue.parseFrom(b);
            java.util.Map<PartitionId, Long> starts = new java.util.HashMap<>();
            for (LogStartValue s : v.getLogStartsList()) {
                starts.put(new PartitionId(s.getTopicId(), s.getPartition()), s.getLogStartOffset());
            }
            java.util.Map<PartitionId, KeyCleaning> cleanings = new java.util.HashMap<>();
            for (KeyCleaningValue c : v.getCleaningsList()) {
                cleanings.put(new PartitionId(c.getTopicId(), c.getPartition()), new KeyCleaning(c.getCleanedTo(),
                        c.getHasTombstone() ? c.getOldestTombstoneMs() : KeyCleaning.NO_TOMBSTONE,
                        Math.min(c.getComparedTo(), c.getCleanedTo())));
            }
            ProducerSnapshotRef producers = null;
            if (v.hasProducers()) {
                ProducerSnapshotRefValue p = v.getProducers();
                producers = new ProducerSnapshotRef(p.getObjectKey(), p.getCoversBefore(), p.getLength(),
                        p.getCrc32C());
            }
            return new ShardState(v.getNextSequence(), starts, cleanings, producers);
        });
    }

    /** A shard's producer snapshot as compaction writes it to the object store. */
    public static byte[] encodeProducerSnapshot(int shard, long coversBefore, long writtenAtMs,
                                                ProducerStates states) {
        ProducerSnapshotValue.Builder v = ProducerSnapshotValue.newBuilder().setShard(shard)
                .setCoversBefore(coversBefore).setWrittenAtMs(writtenAtMs);
        states.byPartition().forEach((partition, producers) -> {
            PartitionProducersValue.Builder p = PartitionProducersValue.newBuilder()
                    .setTopicId(partition.topicId()).setPartition(partition.partition());
            producers.values().forEach(s -> {
                ProducerStateValue.Builder b = ProducerStateValue.newBuilder().setProducerId(s.producerId())
                        .setLastSequence(s.lastSequence()).setLastWriteMs(s.lastWriteMs()).setEpoch(s.epoch());
                s.recent().forEach(r -> b.addRecent(RecentBatchValue.newBuilder().setBaseSequence(r.baseSequence())
                        .setRecordCount(r.recordCount()).setBaseOffset(r.baseOffset())));
                p.addProducers(b);
            });
            v.addPartitions(p);
        });
        return v.build().toByteArray();
    }

    /** A decoded producer snapshot: the shard's states as of the commits before {@code coversBefore}. */
    public record ProducerSnapshot(int shard, long coversBefore, long writtenAtMs, ProducerStates states) {
    }

    /** The snapshot {@code ref} names, from its object's bytes, which must be as written (length, CRC32C). */
    public static ProducerSnapshot decodeProducerSnapshot(ProducerSnapshotRef ref, java.nio.ByteBuffer bytes) {
        ref.verify(bytes);
        byte[] array = new byte[bytes.remaining()];
        bytes.duplicate().get(array);
        return parse(ref.objectKey(), array, b -> {
            ProducerSnapshotValue v = ProducerSnapshotValue.parseFrom(b);
            ProducerStates states = new ProducerStates();
            for (PartitionProducersValue p : v.getPartitionsList()) {
                PartitionId partition = new PartitionId(p.getTopicId(), p.getPartition());
                for (ProducerStateValue s : p.getProducersList()) {
                    states.put(partition, new ProducerState(s.getProducerId(), s.getLastSequence(),
                            s.getLastWriteMs(), s.getRecentList().stream().map(r -> new ProducerState.Batch(
                                    r.getBaseSequence(), r.getRecordCount(), r.getBaseOffset())).toList(),
                            s.getEpoch()));
                }
            }
            return new ProducerSnapshot(v.getShard(), v.getCoversBefore(), v.getWrittenAtMs(), states);
        });
    }

    public static byte[] encode(GcMarker m) {
        return GcMarkerValue.newBuilder().setFirstUnreferencedMs(m.firstUnreferencedMs())
                .setLastModifiedMs(m.lastModifiedMs()).setDeleted(m.deleted()).build().toByteArray();
    }

    public static GcMarker decodeGcMarker(String key, String objectKey, byte[] bytes) {
        return parse(key, bytes, b -> {
            GcMarkerValue v = GcMarkerValue.parseFrom(b);
            return new GcMarker(objectKey, v.getFirstUnreferencedMs(), v.getLastModifiedMs(), v.getDeleted());
        });
    }

    public static byte[] encode(io.strata.metadata.CompactionPass p) {
        return CompactionPassValue.newBuilder().setFinishedAtMs(p.finishedAtMs())
                .setDurationMs(p.durationMs()).setShards(p.shards()).setSteps(p.steps())
                .setSegmentsWritten(p.segmentsWritten()).setBytesMerged(p.bytesMerged()).setBytesExpired(p.bytesExpired())
                .setBytesCleaned(p.bytesCleaned()).setObjectsDeleted(p.objectsDeleted()).setFailures(p.failures())
                .setIndexEntries(p.indexEntries()).setOldestUnmergedAgeMs(p.oldestUnmergedAgeMs())
                .setRetentionLagMs(p.retentionLagMs()).build().toByteArray();
    }

    public static io.strata.metadata.CompactionPass decodeCompactionPass(String key, String owner, byte[] bytes) {
        return parse(key, bytes, b -> {
            CompactionPassValue v = CompactionPassValue.parseFrom(b);
            return new io.strata.metadata.CompactionPass(owner, v.getFinishedAtMs(), v.getDurationMs(), v.getShards(),
                    v.getSteps(), v.getSegmentsWritten(), v.getBytesMerged(), v.getBytesExpired(), v.getBytesCleaned(),
                    v.getObjectsDeleted(), v.getFailures(), v.getIndexEntries(), v.getOldestUnmergedAgeMs(),
                    v.getRetentionLagMs());
        });
    }

    public static byte[] encode(io.strata.metadata.ShardSizes sizes) {
        ShardSizesValue.Builder v = ShardSizesValue.newBuilder().setMeasuredAtMs(sizes.measuredAtMs());
        sizes.bytes().forEach((p, bytes) -> v.addPartitions(PartitionSize.newBuilder().setTopicId(p.topicId())
                .setPartition(p.partition()).setBytes(bytes)));
        return v.build().toByteArray();
    }

    public static io.strata.metadata.ShardSizes decodeShardSizes(String key, int shard, byte[] bytes) {
        return parse(key, bytes, b -> {
            ShardSizesValue v = ShardSizesValue.parseFrom(b);
            java.util.Map<PartitionId, Long> sizes = new java.util.HashMap<>();
            v.getPartitionsList().forEach(p -> sizes.put(new PartitionId(p.getTopicId(), p.getPartition()), p.getBytes()));
            return new io.strata.metadata.ShardSizes(shard, v.getMeasuredAtMs(), sizes);
        });
    }

    public static byte[] encodeLock(String owner, long acquiredAtMs) {
        return LockValue.newBuilder().setOwner(owner).setAcquiredAtMs(acquiredAtMs).build().toByteArray();
    }

    public static byte[] encodeRevisionSample(long revision, long atMs) {
        return RevisionSampleValue.newBuilder().setRevision(revision).setAtMs(atMs).build().toByteArray();
    }

    public static RevisionSampleValue decodeRevisionSample(String key, byte[] bytes) {
        return parse(key, bytes, RevisionSampleValue::parseFrom);
    }

    public static byte[] encode(NodeInfo n) {
        return NodeValue.newBuilder().setNodeId(n.nodeId()).setAddress(n.address())
                .setInternalAddress(n.internalAddress()).addAllRoles(n.roles().stream().sorted().toList())
                .setStartedAtMs(n.startedAtMs()).setKafkaAddress(n.kafkaAddress()).setZone(n.zone())
                .setVersion(n.version()).build().toByteArray();
    }

    public static NodeInfo decodeNode(String key, byte[] bytes) {
        return parse(key, bytes, b -> {
            NodeValue v = NodeValue.parseFrom(b);
            // A node registered before the internal port existed served node-to-node calls on its one port.
            String internal = v.getInternalAddress().isEmpty() ? v.getAddress() : v.getInternalAddress();
            return new NodeInfo(v.getNodeId(), v.getAddress(), internal, new HashSet<>(v.getRolesList()),
                    v.getStartedAtMs(), v.getKafkaAddress(), v.getZone(), v.getVersion());
        });
    }
}
