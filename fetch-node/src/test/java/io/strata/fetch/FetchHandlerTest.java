package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.RawChunk;
import io.strata.format.ChunkCodec;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.OffsetSpec;
import io.strata.fetch.cache.ChunkCache;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.fetch.index.IndexView;
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

/** The read path over the embedded metadata store and a local object store (both product adapters). */
class FetchHandlerTest extends ReadPathFixture {
    @Test
    void fetchAnswersRecordsFromTheOffsetAcrossChunks() {
        commit(Map.of(0, values("a", 0, 5)), 1000);
        commit(Map.of(0, values("b", 0, 5), 1, values("c", 0, 2)), 2000);
        List<ConsumedRecord> records = awaitRecords(0, 3, 7);
        assertThat(records).extracting(ConsumedRecord::getOffset).containsExactly(3L, 4L, 5L, 6L, 7L, 8L, 9L);
        assertThat(records).extracting(r -> r.getValue().toStringUtf8())
                .containsExactly("a3", "a4", "b0", "b1", "b2", "b3", "b4");
        FetchResponse last = fetch(0, 10, 0);
        assertThat(last.getRecordsList()).isEmpty();
        assertThat(last.getNextOffset()).isEqualTo(10);
        assertThat(last.getEndOffset()).isEqualTo(10);
    }

    @Test
    void aRangeReadDecodesOnlyTheChunksCoveringItAndABudgetedOneLeavesTheSharedCacheAlone() {
        commit(Map.of(0, values("a", 0, 5)), 1000);
        commit(Map.of(0, values("b", 0, 5)), 2000);
        commit(Map.of(0, values("c", 0, 5)), 3000);
        awaitEnd(0, 15);
        PartitionId pid = new PartitionId(topic.topicId(), 0);
        FetchHandler.RangeRead first = handler.recordsBetween(pid, 1, 3).join();
        assertThat(first.records()).extracting(r -> new String(r.record().value(), StandardCharsets.UTF_8))
                .containsExactly("a1", "a2", "a3");
        assertThat(first.readTo()).isEqualTo(4);
        assertThat(handler.rangeChunksDecoded()).as("the chunks past the range are not decoded").isEqualTo(1);
        FetchHandler.RangeRead across = handler.recordsBetween(pid, 4, 6).join();
        assertThat(across.records()).extracting(FetchHandler.OffsetRecord::offset).containsExactly(4L, 5L, 6L);
        assertThat(across.readTo()).isEqualTo(7);
        assertThat(handler.rangeChunksDecoded()).as("the first chunk from the cache, the second decoded").isEqualTo(2);
        for (int round = 1; round <= 2; round++) {
            FetchHandler.RangeRead budgeted = handler.recordsBetween(pid, 10, 14, 1 << 20).join();
            assertThat(budgeted.records()).extracting(FetchHandler.OffsetRecord::offset)
                    .containsExactly(10L, 11L, 12L, 13L, 14L);
            assertThat(handler.rangeChunksDecoded()).as("a budgeted read decodes afresh, caching nothing")
                    .isEqualTo(2 + round);
        }
    }

    @Test
    void fetchChunksAnswersTheStoredChunksThatTheClientDecodesToTheSameRecords() {
        commit(Map.of(0, values("a", 0, 5)), 1000);
        commit(Map.of(0, values("b", 0, 5), 1, values("c", 0, 2)), 2000);
        awaitEnd(0, 10);
        long loadsBefore = cache.loads();
        FetchChunksResponse raw = handler.fetchChunks(request(0, 3)).join();
        assertThat(raw.getChunksList()).extracting(RawChunk::getBaseOffset).containsExactly(0L, 5L);
        assertThat(raw.getNextOffset()).isEqualTo(10);
        List<String> decoded = new ArrayList<>();
        for (RawChunk chunk : raw.getChunksList()) {
            List<LogRecord> records = ChunkCodec.decode(chunk.getData().asReadOnlyByteBuffer(), chunk.getCrc32C(),
                    chunk.getUncompressedLength(), chunk.getStoredRecordCount());
            records.forEach(r -> decoded.add(new String(r.value(), StandardCharsets.UTF_8)));
        }
        assertThat(decoded).containsExactly("a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2", "b3", "b4");
        assertThat(handler.fetch(request(0, 3)).join().getRecordsList()).extracting(r -> r.getValue().toStringUtf8())
                .containsExactly("a3", "a4", "b0", "b1", "b2", "b3", "b4");
        assertThat(cache.loads() - loadsBefore).as("the decoded fetch reads the cached chunks").isEqualTo(2);
    }

    @Test
    void aTagFilterPassesOverChunksKnownToHoldNoneOfItsTagsWithoutDecompressingThem() {
        commit(topic, Map.of(0, values("a", 0, 5)), 1000, "a");
        commit(topic, Map.of(0, values("b", 0, 5)), 2000, "b");
        commit(topic, Map.of(0, values("c", 0, 5)), 3000, "a");
        awaitEnd(0, 15);
        FetchRequest onlyA = request(0, 0).toBuilder().setFilter(io.strata.api.v1.RecordFilter.newBuilder()
                .addTags("a")).build();
        // The first read decodes every chunk and learns their tags; the second passes over the b chunk.
        for (int round = 0; round < 2; round++) {
            FetchResponse answer = handler.fetch(onlyA).join();
            assertThat(answer.getRecordsList()).extracting(r -> r.getValue().toStringUtf8())
                    .containsExactly("a0", "a1", "a2", "a3", "a4", "c0", "c1", "c2", "c3", "c4");
            assertThat(answer.getNextOffset()).isEqualTo(15);
            assertThat(handler.chunksPassedOver()).as("round %d", round).isEqualTo(round);
        }
        FetchResponse onlyB = handler.fetch(request(0, 0).toBuilder().setFilter(io.strata.api.v1.RecordFilter
                .newBuilder().addTags("b")).build()).join();
        assertThat(onlyB.getRecordsList()).extracting(r -> r.getValue().toStringUtf8())
                .containsExactly("b0", "b1", "b2", "b3", "b4");
        assertThat(onlyB.getNextOffset()).isEqualTo(15);
        assertThat(handler.chunksPassedOver()).as("both a chunks passed over").isEqualTo(3);
    }

    @Test
    void fetchAtTheEndIsWokenByTheCommitThatExtendsThePartition() {
        // Waits up to 30 s: the test only finishes early because the commit's watch event wakes it.
        CompletableFuture<FetchResponse> waiting = handler.fetch(request(2, 0).toBuilder().setMaxWaitMs(30_000).build());
        assertThat(waiting).isNotDone();
        commit(Map.of(2, values("late", 0, 3)), 5000);
        FetchResponse response = waiting.join();
        assertThat(response.getRecordsList()).extracting(r -> r.getValue().toStringUtf8())
                .containsExactly("late0", "late1", "late2");
        assertThat(response.getNextOffset()).isEqualTo(3);
    }

    @Test
    void aLongPollWokenByACommitGoesOnOffTheThreadThatWokeIt() {
        java.util.concurrent.ExecutorService pool = Executors.newSingleThreadExecutor();
        AtomicInteger handedOver = new AtomicInteger();
        try {
            FetchHandler handing = new FetchHandler(index, new io.strata.fetch.index.ChunkLocator(footers), cache,
                    new io.strata.metadata.TopicCache(metadata, Clock.systemUTC(), Duration.ofSeconds(1)), p -> true,
                    io.strata.fetch.FetchSettings.defaults(), io.strata.fetch.txn.CommittedReads.NONE, r -> {
                        handedOver.incrementAndGet();
                        pool.execute(r);
                    });
            CompletableFuture<FetchResponse> waiting = handing.fetch(request(2, 0).toBuilder().setMaxWaitMs(30_000)
                    .build());
            assertThat(waiting).isNotDone();
            assertThat(handedOver).hasValue(0);
            commit(Map.of(2, values("late", 0, 3)), 5000);
            assertThat(waiting.join().getRecordsCount()).isEqualTo(3);
            assertThat(handedOver).as("the read after the wake went to the executor").hasValue(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anOffsetPastThisNodesEndThatACommitReachesMeanwhileIsServedNotOutOfRange() {
        // A consumer moved here from another node may have read records this node learns of a moment later.
        commit(Map.of(1, values("x", 0, 4)), 1000);
        awaitRecords(1, 0, 4);
        CompletableFuture<FetchResponse> ahead = handler.fetch(request(1, 6));
        assertThat(ahead).as("waiting to see the commits that reach offset 6").isNotDone();
        commit(Map.of(1, values("y", 0, 4)), 2000);
        FetchResponse response = ahead.join();
        assertThat(response.getRecordsList()).extracting(r -> r.getValue().toStringUtf8()).containsExactly("y2", "y3");
        assertThat(response.getNextOffset()).isEqualTo(8);
    }

    @Test
    void offsetsOutsideThePartitionAreOutOfRangeWithTheValidRange() {
        commit(Map.of(1, values("x", 0, 4)), 1000);
        awaitRecords(1, 0, 4);
        assertStatus(request(1, 5), Status.Code.OUT_OF_RANGE, "[0, 4]");
        assertStatus(request(1, -1), Status.Code.INVALID_ARGUMENT, "negative");
        assertStatus(request(3, 0), Status.Code.INVALID_ARGUMENT, "out of range");
        assertStatus(FetchRequest.newBuilder().setTopic("nope").build(), Status.Code.NOT_FOUND, "unknown topic 'nope'");
    }

    @Test
    void manyConcurrentFetchesOfOneChunkIssueOneGet() {
        commit(Map.of(0, values("s", 0, 100)), 1000);
        awaitEnd(0, 100);
        long before = cache.loads();
        List<CompletableFuture<FetchResponse>> fetches = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            fetches.add(handler.fetch(request(0, i)));
        }
        fetches.forEach(f -> assertThat(f.join().getRecordsCount()).isPositive());
        assertThat(cache.loads() - before).isEqualTo(1);
        assertThat(cache.requests()).isGreaterThanOrEqualTo(50);
    }

    @Test
    void corruptChunkInStorageIsAnErrorNeverData() throws Exception {
        String key = commit(Map.of(0, values("good", 0, 20)), 1000);
        awaitEnd(0, 20);
        Path file = dir.resolve("objects").resolve(key);
        byte[] bytes = Files.readAllBytes(file);
        bytes[20] ^= 0x40; // inside the first chunk
        Files.delete(file);
        Files.write(file, bytes);
        assertThatThrownBy(() -> handler.fetch(request(0, 0)).join())
                .isInstanceOf(CompletionException.class).cause()
                .isInstanceOfSatisfying(BlockFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(BlockFormatException.Reason.CORRUPT));
    }

    @Test
    void offsetForTimestampIsTheFirstRecordAtOrAfterIt() {
        commit(Map.of(0, values("a", 0, 5)), 1000);  // timestamps 1000..1004
        commit(Map.of(0, values("b", 0, 5)), 2000);  // timestamps 2000..2004
        awaitEnd(0, 10);
        assertThat(handler.listOffsets(timestamp(1003)).join().getOffset()).isEqualTo(3);
        assertThat(handler.listOffsets(timestamp(1500)).join().getOffset()).isEqualTo(5);
        assertThat(handler.listOffsets(timestamp(1500)).join().getTimestampMs()).isEqualTo(2000);
        assertThat(handler.listOffsets(timestamp(9999)).join().getOffset()).isEqualTo(10);
        assertThat(handler.listOffsets(ListOffsetsRequest.newBuilder().setTopic("t").setPartition(0)
                .setPosition(OffsetSpec.OFFSET_SPEC_LATEST).build()).join().getOffset()).isEqualTo(10);
        assertThat(handler.listOffsets(ListOffsetsRequest.newBuilder().setTopic("t").setPartition(0)
                .setPosition(OffsetSpec.OFFSET_SPEC_EARLIEST).build()).join().getOffset()).isZero();
    }

    @Test
    void aLogStartMovedInsideAChunkHidesTheRecordsBeforeItFromTimeLookUpsAndReads() throws Exception {
        commit(Map.of(0, values("a", 0, 5)), 1000);  // timestamps 1000..1004
        commit(Map.of(0, values("b", 0, 5)), 2000);  // timestamps 2000..2004
        awaitEnd(0, 10);
        PartitionId pid = new PartitionId(topic.topicId(), 0);
        metadata.compaction().raiseLogStarts(metadata.shardOf(pid), Map.of(pid, 7L)).join(); // DeleteRecords' write
        ListOffsetsRequest earliest = ListOffsetsRequest.newBuilder().setTopic("t").setPartition(0)
                .setPosition(OffsetSpec.OFFSET_SPEC_EARLIEST).build();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (handler.listOffsets(earliest).join().getOffset() != 7 && System.nanoTime() < deadline) {
            Thread.sleep(10); // the index watch brings the start
        }
        assertThat(handler.listOffsets(earliest).join().getOffset()).isEqualTo(7);
        assertThat(handler.listOffsets(timestamp(1003)).join().getOffset()).as("not 3, which is gone").isEqualTo(7);
        assertThat(handler.listOffsets(timestamp(2001)).join().getOffset()).as("not 6, inside the chunk kept")
                .isEqualTo(7);
        assertThat(handler.listOffsets(timestamp(2003)).join().getOffset()).isEqualTo(8);
        assertThat(awaitRecords(0, 7, 3)).extracting(r -> r.getValue().toStringUtf8()).containsExactly("b2", "b3", "b4");
        assertThatThrownBy(() -> fetch(0, 6, 0)).cause().isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.OUT_OF_RANGE));
    }

    private ListOffsetsRequest timestamp(long ts) {
        return ListOffsetsRequest.newBuilder().setTopic("t").setPartition(0).setTimestampMs(ts).build();
    }

    private List<ConsumedRecord> awaitRecords(int partition, long from, int count) {
        awaitEnd(partition, from + count);
        List<ConsumedRecord> records = new ArrayList<>();
        long offset = from;
        while (records.size() < count) {
            FetchResponse response = fetch(partition, offset, 0);
            records.addAll(response.getRecordsList());
            offset = response.getNextOffset();
        }
        return records;
    }

    private FetchResponse fetch(int partition, long offset, int maxWaitMs) {
        return handler.fetch(request(partition, offset).toBuilder().setMaxWaitMs(maxWaitMs).build()).join();
    }

    private static FetchRequest request(int partition, long offset) {
        return FetchRequest.newBuilder().setTopic("t").setPartition(partition).setOffset(offset).build();
    }

    private void assertStatus(FetchRequest request, Status.Code code, String descriptionPart) {
        assertThatThrownBy(() -> handler.fetch(request).join())
                .isInstanceOf(CompletionException.class).cause()
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(code);
                    assertThat(e.getStatus().getDescription()).contains(descriptionPart);
                });
    }
}
