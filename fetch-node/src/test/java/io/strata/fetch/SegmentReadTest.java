package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.OffsetSpec;
import io.strata.api.v1.RawChunk;
import io.strata.format.BatchBuilder;
import io.strata.format.ChunkCodec;
import io.strata.format.LogRecord;
import io.strata.format.SealedSegment;
import io.strata.format.SegmentWriter;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.PartitionId;
import io.strata.metadata.SegmentRef;
import io.strata.metadata.ShardSnapshot;
import io.strata.metadata.ShardState;
import io.strata.metadata.ShardSwap;
import io.strata.metadata.SwapOutcome;
import io.strata.metadata.WorkLock;
import io.strata.metadata.WorkerSession;
import io.strata.storage.object.ObjectKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Reading segments: the index holds one entry per segment and the fetch node finds chunks through the
 * segment's footer. Segments are written here with the format's writer and swapped in through the
 * metadata store, as the compaction job does.
 */
class SegmentReadTest extends ReadPathFixture {
    private WorkerSession session;
    private int segments;

    @AfterEach
    void closeSession() {
        if (session != null) {
            session.close();
        }
    }

    private record Placed(long offset, String value, long timestampMs) {
    }

    /**
     * A segment of partition 0 with one chunk per list, each record at its offset (gaps allowed); each chunk
     * covers the offsets from the previous chunk's end (0 for the first) to its last record.
     */
    private SealedSegment segment(List<List<Placed>> chunks) {
        SegmentWriter writer = new SegmentWriter(topic.topicId(), 0);
        long end = 0;
        for (List<Placed> chunk : chunks) {
            BatchBuilder batch = new BatchBuilder();
            boolean dense = chunk.get(chunk.size() - 1).offset() - chunk.get(0).offset() == chunk.size() - 1;
            for (Placed p : chunk) {
                LogRecord record = new LogRecord(null, p.value().getBytes(StandardCharsets.UTF_8), List.of(),
                        p.timestampMs());
                if (dense) {
                    batch.append(record);
                } else {
                    batch.append(record, p.offset());
                }
            }
            long last = chunk.get(chunk.size() - 1).offset();
            writer.appendChunk(end, (int) (last - end + 1), List.of(batch.build(1)));
            end = last + 1;
        }
        return writer.finish();
    }

    /** Uploads the segment and swaps it in for every entry of partition 0's shard (the test's only partition). */
    private SegmentRef swapIn(SealedSegment sealed, long logStart) {
        PartitionId p0 = topic.partition(0);
        String key = "segments/test-" + (++segments);
        objects.put(ObjectKey.of(key), sealed.bytes()).join();
        SegmentRef ref = SegmentRef.of(p0, key, sealed.chunks(), sealed.footerOffset(), sealed.footerLength(),
                sealed.footerCrc32c());
        int shard = metadata.shardOf(p0);
        ShardSnapshot snapshot = metadata.compaction().readShard(shard).join();
        if (session == null) {
            session = metadata.compaction().openSession("test", Duration.ofSeconds(10)).join();
        }
        WorkLock lock = session.tryLock("shard-" + shard + "-" + segments).join().orElseThrow();
        Map<Long, Long> replaced = new HashMap<>(snapshot.modRevisions());
        long next = snapshot.state().nextSequence();
        SwapOutcome outcome = metadata.compaction().swap(new ShardSwap(shard, lock, snapshot.stateModRevision(),
                new ShardState(next + 1, logStart > 0 ? Map.of(p0, logStart) : Map.of()), replaced,
                List.of(IndexEntry.segment(shard, next, 0, ref)), Set.of(key))).join();
        assertThat(outcome).isInstanceOf(SwapOutcome.Applied.class);
        return ref;
    }

    private static List<Placed> dense(long from, int count, String prefix, long ts) {
        List<Placed> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(new Placed(from + i, prefix + (from + i), ts + i));
        }
        return out;
    }

    private List<ConsumedRecord> readAll(long from) {
        List<ConsumedRecord> out = new ArrayList<>();
        long offset = from;
        long end = index.partition(topic.partition(0)).endOffset();
        while (offset < end) {
            FetchResponse r = handler.fetch(request(offset).toBuilder().setMaxBytes(64).build()).join();
            out.addAll(r.getRecordsList());
            assertThat(r.getNextOffset()).isGreaterThan(offset);
            offset = r.getNextOffset();
        }
        return out;
    }

    private void awaitSegment() {
        PartitionId p0 = topic.partition(0);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < until) {
            boolean onlySegments = true;
            for (var ref : index.partition(p0).refs()) {
                onlySegments &= ref instanceof SegmentRef;
            }
            if (onlySegments && index.partition(p0).refs().iterator().hasNext()) {
                return;
            }
            index.awaitBeyond(p0, Long.MAX_VALUE - 1, Duration.ofMillis(100)).join();
        }
        throw new AssertionError("the index view did not see the segment");
    }

    @Test
    void recordsMergedIntoASegmentReadTheSameAsFromTheirBlocks() {
        commit(Map.of(0, values("r", 0, 10)), 1000);
        commit(Map.of(0, values("r", 10, 10)), 1010);
        awaitEnd(0, 20);
        List<ConsumedRecord> before = readAll(0);
        swapIn(segment(List.of(dense(0, 7, "r", 1000), dense(7, 7, "r", 1007), dense(14, 6, "r", 1014))), 0);
        awaitSegment();
        List<ConsumedRecord> after = readAll(0);
        assertThat(after).isEqualTo(before);
        assertThat(after).extracting(ConsumedRecord::getOffset).containsExactlyElementsOf(
                java.util.stream.LongStream.range(0, 20).boxed().toList());
        assertThat(readAll(9)).isEqualTo(before.subList(9, 20));
        assertThat(footers.reads()).as("the footer is read once and kept").isEqualTo(1);

        FetchChunksResponse raw = handler.fetchChunks(request(8)).join();
        assertThat(raw.getChunksList()).extracting(RawChunk::getBaseOffset).startsWith(7L);
        assertThat(handler.listOffsets(ListOffsetsRequest.newBuilder().setTopic("t").setPartition(0)
                .setTimestampMs(1015).build()).join().getOffset()).isEqualTo(15);
    }

    @Test
    void aKeyCompactedChunkAnswersItsRecordsAtTheirOwnOffsets() {
        commit(Map.of(0, values("r", 0, 30)), 1000);
        awaitEnd(0, 30);
        List<Placed> sparse = List.of(new Placed(2, "k2", 1002), new Placed(9, "k9", 1009), new Placed(17, "k17", 1017));
        swapIn(segment(List.of(sparse, dense(18, 12, "r", 1018))), 0);
        awaitSegment();
        List<ConsumedRecord> all = readAll(0);
        assertThat(all).extracting(ConsumedRecord::getOffset).startsWith(2L, 9L, 17L, 18L, 19L).hasSize(15);
        assertThat(all.get(1).getValue().toStringUtf8()).isEqualTo("k9");
        FetchResponse fromGap = handler.fetch(request(3)).join();
        assertThat(fromGap.getRecords(0).getOffset()).as("an offset compacted away reads on from the next record")
                .isEqualTo(9);
        FetchChunksResponse raw = handler.fetchChunks(request(0)).join();
        RawChunk first = raw.getChunks(0);
        assertThat(first.getBaseOffset()).isZero();
        assertThat(first.getOffsetCount()).isEqualTo(18);
        assertThat(first.getRecordCount()).isEqualTo(3);
        List<Long> offsets = new ArrayList<>();
        ChunkCodec.decode(first.getData().asReadOnlyByteBuffer(), first.getCrc32C(), first.getUncompressedLength(),
                first.getStoredRecordCount(), first.getBaseOffset(),
                (position, delta, ts, key, value, headers) -> offsets.add(first.getBaseOffset() + delta));
        assertThat(offsets).containsExactly(2L, 9L, 17L);
    }

    @Test
    void retentionInsideASegmentMovesTheStartAndOlderOffsetsAreOutOfRange() {
        commit(Map.of(0, values("r", 0, 20)), 1000);
        awaitEnd(0, 20);
        SealedSegment sealed = segment(List.of(dense(0, 5, "r", 1000), dense(5, 5, "r", 1005), dense(10, 10, "r", 1010)));
        swapIn(sealed, 0);
        awaitSegment();
        // Retention cuts the first two chunks: the entry is rewritten to start at chunk 2 (offset 10).
        PartitionId p0 = topic.partition(0);
        int shard = metadata.shardOf(p0);
        ShardSnapshot snapshot = metadata.compaction().readShard(shard).join();
        IndexEntry entry = snapshot.entries().get(0);
        SegmentRef cut = entry.segment().from(2, sealed.chunks());
        WorkLock lock = session.tryLock("cut").join().orElseThrow();
        long next = snapshot.state().nextSequence();
        assertThat(metadata.compaction().swap(new ShardSwap(shard, lock, snapshot.stateModRevision(),
                new ShardState(next + 1, Map.of(p0, 10L)), Map.of(entry.sequence(), snapshot.modRevisions()
                .get(entry.sequence())), List.of(IndexEntry.segment(shard, next, 0, cut)), Set.of())).join())
                .isInstanceOf(SwapOutcome.Applied.class);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (index.partition(p0).logStartOffset() != 10 && System.nanoTime() < until) {
            index.awaitBeyond(p0, Long.MAX_VALUE - 1, Duration.ofMillis(100)).join();
        }
        assertThat(index.partition(p0).logStartOffset()).isEqualTo(10);
        assertThatThrownBy(() -> handler.fetch(request(4)).join()).cause()
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.OUT_OF_RANGE);
                    assertThat(e.getStatus().getDescription()).contains("[10, 20]");
                });
        assertThat(readAll(10)).extracting(ConsumedRecord::getOffset).first().isEqualTo(10L);
        assertThat(handler.listOffsets(ListOffsetsRequest.newBuilder().setTopic("t").setPartition(0)
                .setPosition(OffsetSpec.OFFSET_SPEC_EARLIEST).build()).join().getOffset()).isEqualTo(10);
    }

    @Test
    void aPartitionWhoseEveryRecordExpiredKeepsItsEnd() {
        commit(Map.of(0, values("r", 0, 8)), 1000);
        awaitEnd(0, 8);
        PartitionId p0 = topic.partition(0);
        int shard = metadata.shardOf(p0);
        ShardSnapshot snapshot = metadata.compaction().readShard(shard).join();
        session = metadata.compaction().openSession("test", Duration.ofSeconds(10)).join();
        WorkLock lock = session.tryLock("expire").join().orElseThrow();
        assertThat(metadata.compaction().swap(new ShardSwap(shard, lock, snapshot.stateModRevision(),
                new ShardState(snapshot.state().nextSequence() + 1, Map.of(p0, 8L)), snapshot.modRevisions(),
                List.of(), Set.of())).join()).isInstanceOf(SwapOutcome.Applied.class);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (index.partition(p0).refs().iterator().hasNext() && System.nanoTime() < until) {
            index.awaitBeyond(p0, Long.MAX_VALUE - 1, Duration.ofMillis(100)).join();
        }
        assertThat(index.partition(p0).logStartOffset()).isEqualTo(8);
        assertThat(index.partition(p0).endOffset()).isEqualTo(8);
        FetchResponse empty = handler.fetch(request(8)).join();
        assertThat(empty.getRecordsList()).isEmpty();
        assertThat(empty.getEndOffset()).isEqualTo(8);
        commit(Map.of(0, values("n", 0, 2)), 5000);
        awaitEnd(0, 10);
        assertThat(readAll(8)).extracting(r -> r.getValue().toStringUtf8()).containsExactly("n0", "n1");
    }

    @Test
    void badArgumentsAreRefusedAtOnceNotAfterTheWait() {
        FetchRequest negative = FetchRequest.newBuilder().setTopic("t").setPartition(-1).setMaxWaitMs(30_000).build();
        FetchRequest longName = FetchRequest.newBuilder().setTopic("x".repeat(10_000)).setMaxWaitMs(30_000).build();
        for (FetchRequest bad : List.of(negative, longName)) {
            assertThat(handler.fetch(bad)).isCompletedExceptionally();
            assertThat(handler.fetchChunks(bad)).isCompletedExceptionally();
            assertThatThrownBy(() -> handler.fetch(bad).join()).isInstanceOf(CompletionException.class).cause()
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        }
        assertThat(handler.listOffsets(ListOffsetsRequest.newBuilder().setTopic("t").setPartition(-1).build()))
                .isCompletedExceptionally();
    }

    @Test
    void aFooterDamagedOnTheWayIsReadAgain() {
        commit(Map.of(0, values("r", 0, 6)), 1000);
        awaitEnd(0, 6);
        DamagingObjectStore damaging = new DamagingObjectStore(objects);
        var damagedFooters = new io.strata.fetch.index.SegmentFooters(damaging, 1000);
        SegmentRef ref = swapIn(segment(List.of(dense(0, 6, "r", 1000))), 0);
        damaging.damageNext(1);
        assertThat(damagedFooters.chunks(ref).join()).hasSize(1);
        assertThat(damagedFooters.corrupt()).isEqualTo(1);
        assertThat(damagedFooters.reads()).isEqualTo(2);
    }

    private static FetchRequest request(long offset) {
        return FetchRequest.newBuilder().setTopic("t").setPartition(0).setOffset(offset).build();
    }
}
