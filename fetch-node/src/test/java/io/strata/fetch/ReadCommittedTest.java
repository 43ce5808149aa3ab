package io.strata.fetch;

import static io.strata.testkit.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.IsolationLevel;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.OffsetSpec;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.fetch.index.ChunkLocator;
import io.strata.fetch.txn.CommittedReads;
import io.strata.fetch.txn.TransactionsView;
import io.strata.format.BlockWriter;
import io.strata.format.ChunkEntry;
import io.strata.format.LogRecord;
import io.strata.format.SealedBlock;
import io.strata.metadata.BatchOutcome;
import io.strata.metadata.BlockChunk;
import io.strata.metadata.BlockCommit;
import io.strata.metadata.ChunkCommit;
import io.strata.metadata.PartitionId;
import io.strata.metadata.ProducerBatch;
import io.strata.metadata.TopicCache;
import io.strata.storage.object.ObjectKey;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.Transactions;
import io.strata.transactions.coordinator.TransactionCoordinator;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Read-committed reads on a fetch node (docs/transactions.md): they stop at the last stable offset and wait there,
 * leave aborted transactions' records out (decoded on the node, or named in raw chunks), and see a committed
 * transaction's records at once with everything else; read-uncommitted reads see every record.
 */
class ReadCommittedTest extends ReadPathFixture {
    private TransactionsView view;
    private FetchHandler committedHandler;
    private TransactionCoordinator coordinator;

    @BeforeEach
    void startTransactions() {
        view = new TransactionsView(metadata.transactions(), timer);
        view.onMoved(index::wakeReaders);
        view.start().join();
        committedHandler = new FetchHandler(index, new ChunkLocator(footers), cache,
                new TopicCache(metadata, Clock.systemUTC(), Duration.ofSeconds(1)), p -> true,
                FetchSettings.defaults(), new CommittedReads(view));
        coordinator = new TransactionCoordinator(metadata, Transactions.DEFAULT_LIMITS, Clock.systemUTC());
    }

    @AfterEach
    void stopTransactions() throws Exception {
        view.close();
    }

    /** The transaction's records on partition 0, as one chunk of its own block; answers what the commit decided. */
    private BatchOutcome commitTransactional(TransactionRecord txn, long baseSequence, List<String> values) {
        BlockWriter writer = new BlockWriter(3);
        values.forEach(v -> writer.append(topic.topicId(), 0, new LogRecord(null, v.getBytes(StandardCharsets.UTF_8),
                List.of(), 1_000)));
        SealedBlock sealed = writer.seal();
        String key = "wal/00/txn-" + System.nanoTime();
        objects.put(ObjectKey.of(key), sealed.bytes()).join();
        ChunkEntry c = sealed.chunks().get(0);
        BlockChunk chunk = new BlockChunk(new PartitionId(c.topicId(), c.partition()), c.recordCount(), c.byteOffset(),
                c.byteLength(), c.uncompressedLength(), c.minTimestampMs(), c.maxTimestampMs(), c.crc32c(),
                List.of(new ProducerBatch(txn.txnProducerId(), baseSequence, 0, values.size(), txn.txnEpoch())));
        ChunkCommit commit = metadata.commitBlock(new BlockCommit(key, sealed.sizeBytes(), List.of(chunk))).join()
                .get(0);
        return commit.batches().get(0);
    }

    private TransactionRecord begin(String id) {
        TransactionCoordinator.Producer p = coordinator.initProducer(id, 60_000).join();
        return coordinator.addPartitions(id, p.producerId(), p.producerEpoch(),
                List.of(new TransactionCoordinator.PartitionName("t", 0))).join();
    }

    private FetchResponse fetch(long offset, boolean committed, int maxWaitMs) {
        return committedHandler.fetch(request(offset, committed, maxWaitMs)).join();
    }

    private static FetchRequest request(long offset, boolean committed, int maxWaitMs) {
        return FetchRequest.newBuilder().setTopic("t").setPartition(0).setOffset(offset).setMaxWaitMs(maxWaitMs)
                .setIsolationLevel(committed ? IsolationLevel.ISOLATION_LEVEL_READ_COMMITTED
                        : IsolationLevel.ISOLATION_LEVEL_READ_UNCOMMITTED).build();
    }

    private static List<String> values(FetchResponse response) {
        List<String> out = new ArrayList<>();
        for (ConsumedRecord r : response.getRecordsList()) {
            out.add(r.getOffset() + ":" + r.getValue().toStringUtf8());
        }
        return out;
    }

    private long latest(boolean committed) {
        return committedHandler.listOffsets(ListOffsetsRequest.newBuilder().setTopic("t").setPartition(0)
                .setPosition(OffsetSpec.OFFSET_SPEC_LATEST).setIsolationLevel(committed
                        ? IsolationLevel.ISOLATION_LEVEL_READ_COMMITTED : IsolationLevel.ISOLATION_LEVEL_READ_UNCOMMITTED)
                .build()).join().getOffset();
    }


    @Test
    void anOpenTransactionHoldsReadCommittedReadersAtItsStartAndItsAbortLeavesItsRecordsOut() throws Exception {
        commit(Map.of(0, List.of("a0", "a1")), 1_000);
        awaitEnd(0, 2);
        TransactionRecord txn = begin("etl");
        assertThat(commitTransactional(txn, 0, List.of("t0", "t1"))).isEqualTo(new BatchOutcome.Appended(2));
        commit(Map.of(0, List.of("b0")), 1_000);
        awaitEnd(0, 5);
        await(() -> latest(true) == 2);

        FetchResponse held = fetch(0, true, 0);
        assertThat(values(held)).containsExactly("0:a0", "1:a1");
        assertThat(held.getNextOffset()).as("stops at the last stable offset").isEqualTo(2);
        assertThat(held.getLastStableOffset()).isEqualTo(2);
        assertThat(held.getEndOffset()).isEqualTo(5);
        assertThat(values(fetch(0, false, 0))).containsExactly("0:a0", "1:a1", "2:t0", "3:t1", "4:b0");
        assertThat(latest(false)).isEqualTo(5);

        // A reader waiting at the last stable offset is woken by the transaction's end, not by its wait running out.
        CompletableFuture<FetchResponse> waiting = committedHandler.fetch(request(2, true, 20_000));
        Thread.sleep(200);
        assertThat(waiting).as("nothing stable past 2 yet").isNotDone();
        coordinator.abort("etl", txn.producerId(), txn.producerEpoch()).join();
        FetchResponse after = waiting.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(values(after)).as("the aborted records are left out").containsExactly("4:b0");
        assertThat(after.getNextOffset()).isEqualTo(5);
        assertThat(values(fetch(0, false, 0))).as("read uncommitted: still there")
                .containsExactly("0:a0", "1:a1", "2:t0", "3:t1", "4:b0");

        FetchChunksResponse raw = committedHandler.fetchChunks(request(2, true, 0)).join();
        assertThat(raw.getChunksList()).as("the chunk of aborted records only is not sent")
                .allSatisfy(c -> assertThat(c.getBaseOffset()).isEqualTo(4));
        assertThat(raw.getNextOffset()).isEqualTo(5);
    }

    @Test
    void aCommittedTransactionsRecordsAppearAtOnceInOffsetOrderWithEverythingElse() throws Exception {
        TransactionRecord txn = begin("orders");
        commit(Map.of(0, List.of("x0")), 1_000);
        assertThat(commitTransactional(txn, 0, List.of("t0"))).isEqualTo(new BatchOutcome.Appended(1));
        assertThat(commitTransactional(txn, 1, List.of("t1", "t2"))).isEqualTo(new BatchOutcome.Appended(2));
        commit(Map.of(0, List.of("y0")), 1_000);
        awaitEnd(0, 5);
        await(() -> latest(true) == 0);
        assertThat(values(fetch(0, true, 0))).as("the transaction began before x0 was stored").isEmpty();

        coordinator.commit("orders", txn.producerId(), txn.producerEpoch()).join();
        await(() -> latest(true) == 5);
        assertThat(values(fetch(0, true, 0))).containsExactly("0:x0", "1:t0", "2:t1", "3:t2", "4:y0");
        assertThat(commitTransactional(txn, 3, List.of("late"))).as("a straggler after the commit")
                .isInstanceOfSatisfying(BatchOutcome.Rejected.class,
                        r -> assertThat(r.reason()).isEqualTo(BatchOutcome.Reason.TRANSACTION_NOT_OPEN));
    }

    @Test
    void aTransactionalBatchTheViewHasNotPlacedYetHoldsReadersBackUntilItLearnsOfItsTransaction() throws Exception {
        // A view that has not read the transactions yet: the index's watch can be ahead of it.
        TransactionsView behind = new TransactionsView(metadata.transactions(), timer);
        FetchHandler lagging = new FetchHandler(index, new ChunkLocator(footers), cache,
                new TopicCache(metadata, Clock.systemUTC(), Duration.ofSeconds(1)), p -> true,
                FetchSettings.defaults(), new CommittedReads(behind));
        commit(Map.of(0, List.of("a0")), 1_000);
        TransactionRecord txn = begin("unseen");
        assertThat(commitTransactional(txn, 0, List.of("t0"))).isEqualTo(new BatchOutcome.Appended(1));
        commit(Map.of(0, List.of("b0")), 1_000);
        awaitEnd(0, 3);
        FetchResponse held = lagging.fetch(request(0, true, 0)).join();
        assertThat(values(held)).as("not past a batch of a transaction it knows nothing of").containsExactly("0:a0");
        assertThat(held.getLastStableOffset()).isEqualTo(1);

        coordinator.commit("unseen", txn.producerId(), txn.producerEpoch()).join();
        behind.start().join(); // learns of it: committed
        assertThat(values(lagging.fetch(request(1, true, 0)).join())).containsExactly("1:t0", "2:b0");
        behind.close();
    }

    @Test
    void rawChunksNameTheAbortedRecordsTheyHoldAndStopAtTheLastStableOffset() throws Exception {
        TransactionRecord first = begin("mixed");
        // One block whose chunk holds a plain record, then the transaction's two: the chunk is sent, naming them.
        BlockWriter writer = new BlockWriter(3);
        for (String v : List.of("p0", "t0", "t1")) {
            writer.append(topic.topicId(), 0, new LogRecord(null, v.getBytes(StandardCharsets.UTF_8), List.of(), 1_000));
        }
        SealedBlock sealed = writer.seal();
        objects.put(ObjectKey.of("wal/00/mixed"), sealed.bytes()).join();
        ChunkEntry c = sealed.chunks().get(0);
        metadata.commitBlock(new BlockCommit("wal/00/mixed", sealed.sizeBytes(), List.of(new BlockChunk(
                topic.partition(0), 3, c.byteOffset(), c.byteLength(), c.uncompressedLength(), c.minTimestampMs(),
                c.maxTimestampMs(), c.crc32c(), List.of(new ProducerBatch(first.txnProducerId(), 0, 1, 2,
                first.txnEpoch())))))).join();
        awaitEnd(0, 3);
        coordinator.abort("mixed", first.producerId(), first.producerEpoch()).join();
        await(() -> latest(true) == 3 && view.anyAborted(topic.partition(0)));

        FetchChunksResponse raw = committedHandler.fetchChunks(request(0, true, 0)).join();
        assertThat(raw.getChunksCount()).isEqualTo(1);
        assertThat(raw.getChunks(0).getAbortedList()).singleElement().satisfies(r -> {
            assertThat(r.getFirst()).isEqualTo(1);
            assertThat(r.getLast()).isEqualTo(2);
        });
        assertThat(values(fetch(0, true, 0))).containsExactly("0:p0");
        assertThat(committedHandler.fetchChunks(request(0, false, 0)).join().getChunks(0).getAbortedCount())
                .as("read uncommitted names nothing").isZero();
    }
}
