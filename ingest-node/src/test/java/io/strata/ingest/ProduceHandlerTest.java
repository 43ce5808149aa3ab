package io.strata.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.strata.api.ErrorReason;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.Acks;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.ingest.grpc.Murmur2Partitioner;
import io.strata.ingest.grpc.ProduceHandler;
import io.strata.ingest.grpc.ProducerIds;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.OneWriteTransaction;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicCache;
import io.strata.metadata.TopicConfig;
import io.strata.format.BatchBuilder;
import io.strata.format.ChunkCodec;
import io.strata.format.LogRecord;
import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStoreException;
import io.strata.storage.object.local.LocalObjectStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The produce path over the embedded metadata store and a local object store (both product adapters). */
class ProduceHandlerTest {
    @TempDir
    Path dir;
    private MetadataStore metadata;
    private FaultInjectingObjectStore objects;
    private IngestPipeline pipeline;
    private ProduceHandler handler;
    private Topic topic;

    private void start(Duration linger, long blockMaxBytes, long maxBuffered, Duration bufferWait) {
        start(linger, blockMaxBytes, maxBuffered, bufferWait, IngestSettings.DEFAULT_PUT_HEDGE_AFTER);
    }

    private void start(Duration linger, long blockMaxBytes, long maxBuffered, Duration bufferWait, Duration hedge) {
        metadata = MetadataStores.embedded(dir.resolve("metadata"), 8);
        objects = new FaultInjectingObjectStore(new LocalObjectStore(dir.resolve("objects")));
        IngestSettings settings = new IngestSettings(blockMaxBytes, linger, maxBuffered, bufferWait, 1024,
                (int) Math.min(64 * 1024, maxBuffered / 2),
                Duration.ofSeconds(20), 3, "test-node", 4, hedge, IngestSettings.DEFAULT_PUT_HEDGE_QUANTILE, false);
        pipeline = new IngestPipeline(settings, objects, metadata, Clock.systemUTC());
        handler = new ProduceHandler(pipeline, new TopicCache(metadata, Clock.systemUTC(), Duration.ofSeconds(1)),
                new ProducerIds(metadata), Clock.systemUTC());
        topic = metadata.createTopic(new TopicConfig("t", 4, -1, -1)).join();
    }

    private void startDefault() {
        start(Duration.ofMillis(20), 1 << 20, 1 << 20, Duration.ofMillis(200));
    }

    @AfterEach
    void stop() {
        if (pipeline != null) {
            pipeline.close();
            objects.close();
            metadata.close();
        }
    }

    @Test
    void durableProduceAnswersOffsetsOnlyForRecordsStoredInACommittedBlock() {
        startDefault();
        ProduceResponse first = produce(request("t", 1, "a", "b", "c"));
        ProduceResponse second = produce(request("t", 1, "d"));
        assertThat(first.getAppendsList()).singleElement().satisfies(a -> {
            assertThat(a.getPartition()).isEqualTo(1);
            assertThat(a.getBaseOffset()).isZero();
            assertThat(a.getRecordCount()).isEqualTo(3);
            assertThat(a.getLogAppendTimeMs()).isPositive();
        });
        assertThat(second.getAppends(0).getBaseOffset()).isEqualTo(3);
        assertThat(valuesInStorage(1)).containsExactly("a", "b", "c", "d");
        assertThat(metadata.offsets(topic.partition(1)).join().nextOffset()).isEqualTo(4);
    }

    @Test
    void aUnaryDurableCallIsTimedOnceAnsweredAndARefusedOneNot() {
        startDefault();
        List<Long> timed = new java.util.concurrent.CopyOnWriteArrayList<>();
        handler.answerTimes(timed::add);
        produce(request("t", 1, "a"));
        produce(request("t", 2, "b"));
        assertThatThrownBy(() -> handler.produce(request("missing", 0, "c")).join())
                .hasCauseInstanceOf(io.grpc.StatusRuntimeException.class);
        assertThat(timed).hasSize(2).allSatisfy(nanos -> assertThat(nanos).isPositive());
    }

    @Test
    void concurrentCallsToManyPartitionsShareOneBlock() {
        start(Duration.ofMillis(300), 1 << 20, 1 << 20, Duration.ofSeconds(1));
        List<CompletableFuture<ProduceResponse>> calls = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            calls.add(handler.produce(request("t", i % 4, "v" + i)));
        }
        calls.forEach(CompletableFuture::join);
        // 40 calls over 4 partitions within one linger: far fewer objects than calls (one per seal).
        assertThat(objects.list("wal/").join().size()).isLessThanOrEqualTo(2);
        for (int p = 0; p < 4; p++) {
            assertThat(valuesInStorage(p)).hasSize(10);
        }
    }

    @Test
    void fullBlockIsSealedWithoutWaitingForLinger() {
        // A linger of an hour: the call can only complete because the block reached its size limit.
        start(Duration.ofHours(1), 100, 1 << 20, Duration.ofSeconds(1));
        ProduceResponse response = produce(request("t", 0, "x".repeat(200)));
        assertThat(response.getAppends(0).getBaseOffset()).isZero();
    }

    @Test
    void keyedRecordsGoToTheirMurmur2PartitionInOrder() {
        startDefault();
        TopicPartitionRecords.Builder entry = TopicPartitionRecords.newBuilder().setTopic("t");
        for (int i = 0; i < 6; i++) {
            entry.addRecords(Record.newBuilder().setKey(ByteString.copyFromUtf8("user-7"))
                    .setValue(ByteString.copyFromUtf8("e" + i)));
        }
        ProduceResponse response = produce(ProduceRequest.newBuilder().addEntries(entry).build());
        int expected = Murmur2Partitioner.partition("user-7".getBytes(StandardCharsets.UTF_8), 4);
        assertThat(response.getAppendsList()).singleElement()
                .satisfies(a -> assertThat(a.getPartition()).isEqualTo(expected));
        assertThat(valuesInStorage(expected)).containsExactly("e0", "e1", "e2", "e3", "e4", "e5");
    }

    @Test
    void murmur2MatchesKafkasPartitioner() {
        // Values from Kafka's own UtilsTest.testMurmur2.
        assertThat(Murmur2Partitioner.murmur2("21".getBytes(StandardCharsets.UTF_8))).isEqualTo(-973932308);
        assertThat(Murmur2Partitioner.murmur2("foobar".getBytes(StandardCharsets.UTF_8))).isEqualTo(-790332482);
        assertThat(Murmur2Partitioner.murmur2("a-little-bit-long-string".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(-985981536);
    }

    @Test
    void acksNoneAnswersWithoutOffsetsAndStillStores() {
        startDefault();
        ProduceResponse response = produce(request("t", 2, "q").toBuilder().setAcks(Acks.ACKS_NONE).build());
        assertThat(response.getAppends(0).getBaseOffset()).isEqualTo(-1);
        pipeline.flush().join();
        assertThat(valuesInStorage(2)).containsExactly("q");
    }

    @Test
    void badRequestsGetPreciseStatusesAndStoreNothing() {
        startDefault();
        assertStatus(ProduceRequest.getDefaultInstance(), Status.Code.INVALID_ARGUMENT, "no entries");
        assertStatus(ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic("t")).build(),
                Status.Code.INVALID_ARGUMENT, "no records");
        assertStatus(request("missing", 0, "a"), Status.Code.NOT_FOUND, "unknown topic 'missing'");
        assertStatus(request("t", 4, "a"), Status.Code.INVALID_ARGUMENT, "out of range");
        assertStatus(request("t", -1, "a"), Status.Code.INVALID_ARGUMENT, "out of range");
        assertStatus(request("t", 0, "x".repeat(2000)), Status.Code.INVALID_ARGUMENT, "over the limit");
        // A header key of 600 characters is 1,200 bytes in UTF-8: over the 1,024-byte limit, as stored.
        assertStatus(ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic("t")
                .addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8("v"))
                        .addHeaders(io.strata.api.v1.Header.newBuilder().setKey("\u00e9".repeat(600))))).build(),
                Status.Code.INVALID_ARGUMENT, "over the limit");
        // One bad entry spoils the whole request: the good entry before it is not stored either.
        ProduceRequest mixed = request("t", 0, "good").toBuilder()
                .addEntries(TopicPartitionRecords.newBuilder().setTopic("missing")
                        .addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8("bad"))))
                .build();
        assertStatus(mixed, Status.Code.NOT_FOUND, "missing");
        pipeline.flush().join();
        assertThat(objects.list("").join()).isEmpty();
        assertThat(metadata.offsets(topic.partition(0)).join().nextOffset()).isZero();
    }

    @Test
    void failedUploadFailsEveryCallInTheBlockAndCommitsNothing() {
        startDefault();
        objects.failPuts(true);
        CompletableFuture<ProduceResponse> a = handler.produce(request("t", 0, "a"));
        CompletableFuture<ProduceResponse> b = handler.produce(request("t", 1, "b"));
        for (CompletableFuture<ProduceResponse> call : List.of(a, b)) {
            assertThatThrownBy(call::join).isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(ObjectStoreException.class);
        }
        assertThat(metadata.offsets(topic.partition(0)).join().nextOffset()).isZero();
        objects.failPuts(false);
        assertThat(produce(request("t", 0, "c")).getAppends(0).getBaseOffset()).isZero();
    }

    @Test
    void blocksUploadedBehindASlowPutCommitTogetherInOrderOnceItLands() {
        start(Duration.ofMillis(20), 1 << 20, 1 << 20, Duration.ofSeconds(1), Duration.ZERO); // no hedged PUTs
        objects.holdNextPut();
        CompletableFuture<ProduceResponse> first = handler.produce(request("t", 0, "a"));
        await(() -> objects.heldPuts() == 1);
        CompletableFuture<ProduceResponse> second = handler.produce(request("t", 0, "b"));
        await(() -> pipeline.committer().blocksAwaitingCommit() == 1);
        CompletableFuture<ProduceResponse> third = handler.produce(request("t", 1, "c"));
        await(() -> pipeline.committer().blocksAwaitingCommit() == 2);
        long transactions = metadata.stats().commitTransactions();
        assertThat(List.of(first, second, third)).as("later blocks wait for the first's commit")
                .noneMatch(CompletableFuture::isDone);

        objects.holdPuts(false);

        assertThat(first.join().getAppends(0).getBaseOffset()).isZero();
        assertThat(second.join().getAppends(0).getBaseOffset()).isEqualTo(1);
        assertThat(third.join().getAppends(0).getBaseOffset()).isZero();
        assertThat(metadata.stats().commitTransactions() - transactions).as("one commit for the three blocks")
                .isEqualTo(1);
        assertThat(valuesInStorage(0)).containsExactly("a", "b");
        assertThat(valuesInStorage(1)).containsExactly("c");
    }

    @Test
    void aFailedUploadBetweenBlocksCommittedTogetherFailsOnlyItsOwnCalls() {
        start(Duration.ofMillis(20), 1 << 20, 1 << 20, Duration.ofSeconds(1), Duration.ZERO);
        objects.holdNextPut();
        objects.failNextPut();
        CompletableFuture<ProduceResponse> first = handler.produce(request("t", 0, "a"));
        await(() -> objects.heldPuts() == 1);
        CompletableFuture<ProduceResponse> failed = handler.produce(request("t", 0, "lost"));
        await(() -> objects.putsFailed() == 1);
        CompletableFuture<ProduceResponse> third = handler.produce(request("t", 0, "c"));
        await(() -> pipeline.committer().blocksAwaitingCommit() == 1);
        long transactions = metadata.stats().commitTransactions();

        objects.holdPuts(false);

        assertThat(first.join().getAppends(0).getBaseOffset()).isZero();
        assertThatThrownBy(failed::join).hasCauseInstanceOf(ObjectStoreException.class);
        assertThat(third.join().getAppends(0).getBaseOffset()).isEqualTo(1);
        assertThat(metadata.stats().commitTransactions() - transactions).isEqualTo(1);
        assertThat(valuesInStorage(0)).containsExactly("a", "c");
    }

    private static void await(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 10 s").isLessThan(deadline);
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void fullBufferRefusesWithResourceExhaustedInsteadOfGrowing() {
        // Uploads hang, so nothing is released: the buffer (4 KiB) fills and the next call is refused.
        start(Duration.ofMillis(5), 1 << 20, 4096, Duration.ofMillis(100));
        objects.holdPuts(true);
        List<CompletableFuture<ProduceResponse>> accepted = new ArrayList<>();
        StatusRuntimeException refused = null;
        for (int i = 0; i < 20 && refused == null; i++) {
            CompletableFuture<ProduceResponse> call = handler.produce(request("t", 0, "y".repeat(900)));
            try {
                call.get(300, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException heldInBuffer) {
                accepted.add(call);
            } catch (java.util.concurrent.ExecutionException e) {
                refused = (StatusRuntimeException) e.getCause();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        assertThat(refused).as("a call beyond the buffer is refused").isNotNull();
        assertThat(accepted).as("calls that fit were accepted").isNotEmpty().hasSizeLessThanOrEqualTo(4);
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(pipeline.bufferedBytes()).isLessThanOrEqualTo(4096);
        objects.holdPuts(false);
        accepted.forEach(CompletableFuture::join); // the held calls complete once uploads go through
    }

    @Test
    void aCallAnsweredByItsDeadlineWhileWaitingForRoomIsNeverStoredAndHoldsNothing() throws Exception {
        // Uploads hang: the buffer (4 KiB) fills, and the next call waits for room (up to 10 s) past its own 200 ms.
        start(Duration.ofMillis(5), 1 << 20, 4096, Duration.ofSeconds(10));
        objects.holdPuts(true);
        List<CompletableFuture<ProduceResponse>> accepted = new ArrayList<>();
        while (pipeline.bufferedBytes() + 1000 <= 4096) {
            accepted.add(handler.produce(request("t", 0, "y".repeat(900))));
            Thread.sleep(50);
        }
        // As large as the others: it does not fit, and waits.
        CompletableFuture<ProduceResponse> late = handler.produce(request("t", 0, "z".repeat(900)).toBuilder()
                .setTimeoutMs(200).build());
        assertThatThrownBy(late::join).cause().isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        objects.holdPuts(false);
        accepted.forEach(CompletableFuture::join);
        ProduceResponse after = handler.produce(request("t", 0, "after")).get(10, TimeUnit.SECONDS);
        assertThat(after.getAppends(0).getBaseOffset()).as("nothing of the late call between")
                .isEqualTo(accepted.size());
        assertThat(metadata.offsets(topic.partition(0)).join().nextOffset()).isEqualTo(accepted.size() + 1);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (pipeline.bufferedBytes() > 0 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(pipeline.bufferedBytes()).as("the late call's reservation is not left behind").isZero();
    }

    @Test
    void aRequestWithinTheLimitThatCouldNeverFitTheBufferIsRefusedAsInvalidNotFailedUnknown() {
        // A 4 KiB buffer takes requests of up to 2 KiB; 80 empty records pass that, and take more than 4 KiB buffered.
        start(Duration.ofMillis(5), 1 << 20, 4096, Duration.ofMillis(100));
        String[] empty = new String[80];
        java.util.Arrays.fill(empty, "");
        assertThatThrownBy(() -> handler.produce(request("t", 0, empty)).join()).cause()
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("more than all of it")
                            .contains("fewer records");
                });
        assertThat(metadata.offsets(topic.partition(0)).join().nextOffset()).isZero();
    }

    private long newProducer() {
        return handler.initProducer("User:ANONYMOUS").join().getProducerId();
    }

    private static ProduceRequest idempotent(long producer, int partition, long sequence, String... values) {
        ProduceRequest r = request("t", partition, values);
        return r.toBuilder().setProducerId(producer)
                .setEntries(0, r.getEntries(0).toBuilder().setBaseSequence(sequence)).build();
    }

    private static ProduceRequest transactional(String id, long producer, long epoch, int partition, long sequence,
                                                String... values) {
        return idempotent(producer, partition, sequence, values).toBuilder().setProducerEpoch(epoch)
                .setTransactionalId(id).build();
    }

    @Test
    void aTransactionalBatchIsTakenOnlyForAPartitionItsOpenTransactionAddedAndAFencedOneNever() {
        startDefault();
        io.strata.transactions.coordinator.TransactionCoordinator coordinator = coordinator();
        io.strata.transactions.coordinator.TransactionCoordinator.Producer old =
                coordinator.initProducer("tx", 60_000).join();
        long epoch = coordinator.addPartitions("tx", old.producerId(), old.producerEpoch(), List.of(
                new io.strata.transactions.coordinator.TransactionCoordinator.PartitionName("t", 0))).join().txnEpoch();
        assertStatus(transactional("tx", old.producerId(), epoch, 0, 0, "a"), Status.Code.FAILED_PRECONDITION,
                "does not take transactional batches");
        handler.useTransactions(new io.strata.ingest.txn.StoredTransactionMembership(metadata.transactions()));
        assertThat(produce(transactional("tx", old.producerId(), epoch, 0, 0, "a", "b")).getAppends(0)
                .getBaseOffset()).isZero();
        assertStatus(transactional("tx", old.producerId(), epoch, 1, 0, "x"), Status.Code.FAILED_PRECONDITION,
                "was not added to the transaction of tx");
        coordinator.addPartitions("tx", old.producerId(), old.producerEpoch(), List.of(
                new io.strata.transactions.coordinator.TransactionCoordinator.PartitionName("t", 1))).join();
        assertThat(produce(transactional("tx", old.producerId(), epoch, 1, 0, "c")).getAppends(0).getBaseOffset())
                .as("added since the node last read the transaction").isZero();
        // A new producer of the id aborts that transaction and begins its own on partition 0.
        io.strata.transactions.coordinator.TransactionCoordinator.Producer next =
                coordinator.initProducer("tx", 60_000).join();
        long nextEpoch = coordinator.addPartitions("tx", next.producerId(), next.producerEpoch(), List.of(
                new io.strata.transactions.coordinator.TransactionCoordinator.PartitionName("t", 0))).join().txnEpoch();
        assertThat(produce(transactional("tx", next.producerId(), nextEpoch, 0, 0, "d")).getAppends(0)
                .getBaseOffset()).isEqualTo(2);
        assertStatus(transactional("tx", old.producerId(), epoch, 0, 2, "zombie"), Status.Code.FAILED_PRECONDITION,
                "producer fenced");
        assertStatus(idempotent(old.producerId(), 0, 0, "e").toBuilder().setProducerEpoch(epoch).build(),
                Status.Code.INVALID_ARGUMENT, "both its transactional_id and its producer_epoch");
        assertStatus(idempotent(old.producerId(), 0, 0, "e").toBuilder().setTransactionalId("tx").build(),
                Status.Code.INVALID_ARGUMENT, "both its transactional_id and its producer_epoch");
        assertStatus(transactional("a\nb", old.producerId(), epoch, 0, 0, "e"), Status.Code.INVALID_ARGUMENT,
                "control characters");
        ProduceRequest late = transactional("tx", next.producerId(), nextEpoch, 0, 1, "e");
        assertStatus(late.toBuilder().setEntries(0, late.getEntries(0).toBuilder().setDelayed(true).setRecords(0,
                late.getEntries(0).getRecords(0).toBuilder().setDeliverAtMs(System.currentTimeMillis() + 60_000)))
                .build(), Status.Code.INVALID_ARGUMENT, "cannot be delayed");
        assertThat(valuesInStorage(0)).containsExactly("a", "b", "d");
        assertThat(valuesInStorage(1)).containsExactly("c");
    }

    @Test
    void aRequestThatAddsItsOwnPartitionsBeginsTheTransactionItNamesAndNeverWritesToOneThatEnded() {
        startDefault();
        io.strata.transactions.coordinator.TransactionCoordinator coordinator = coordinator();
        handler.useTransactions(new io.strata.ingest.txn.StoredTransactionMembership(metadata.transactions(),
                asTheNodeWiresIt(coordinator)));
        coordinator.initProducer("ty", 60_000).join();
        io.strata.transactions.coordinator.TransactionCoordinator.Producer p =
                coordinator.initProducer("ty", 60_000).join(); // producer epoch 1
        long first = io.strata.transactions.TransactionRecord.txnEpoch(p.producerEpoch(), 1);
        assertThat(produce(adding(transactional("ty", p.producerId(), first, 0, 0, "a", "b"))).getAppends(0)
                .getBaseOffset()).isZero();
        assertThat(produce(adding(transactional("ty", p.producerId(), first, 2, 0, "c"))).getAppends(0)
                .getBaseOffset()).isZero();
        io.strata.transactions.TransactionRecord open = coordinator.describe("ty").join().orElseThrow();
        assertThat(open.state()).isEqualTo(io.strata.transactions.TransactionRecord.State.ONGOING);
        assertThat(open.txnEpoch()).isEqualTo(first);
        assertThat(open.partitions()).extracting(io.strata.transactions.TxnPartition::partition,
                io.strata.transactions.TxnPartition::startOffset).containsExactly(
                org.assertj.core.groups.Tuple.tuple(0, 0L), org.assertj.core.groups.Tuple.tuple(2, 0L));
        // Each refusal names its reason (io.strata.api.ErrorReason), which clients act on rather than on the words.
        assertStatus(adding(transactional("ty", p.producerId(), first + 1, 1, 0, "later")),
                Status.Code.FAILED_PRECONDITION, "not open and not the next", ErrorReason.INVALID_STATE);
        assertStatus(transactional("ty", p.producerId(), first, 1, 0, "not added"), Status.Code.FAILED_PRECONDITION,
                "was not added to the transaction", ErrorReason.INVALID_STATE);

        coordinator.commit("ty", p.producerId(), p.producerEpoch(), first).join();
        assertStatus(adding(transactional("ty", p.producerId(), first, 1, 0, "straggler")),
                Status.Code.FAILED_PRECONDITION, "is no longer open", ErrorReason.TRANSACTION_NOT_OPEN);
        assertThat(produce(adding(transactional("ty", p.producerId(), first + 1, 1, 0, "d"))).getAppends(0)
                .getBaseOffset()).as("the next transaction, begun by its first request").isZero();
        assertThat(coordinator.describe("ty").join().orElseThrow().txnEpoch()).isEqualTo(first + 1);
        long fencedEpoch = io.strata.transactions.TransactionRecord.txnEpoch(p.producerEpoch() - 1, 1);
        assertStatus(adding(transactional("ty", p.producerId(), fencedEpoch, 3, 0, "zombie")),
                Status.Code.FAILED_PRECONDITION, "producer fenced", ErrorReason.PRODUCER_FENCED);

        assertStatus(adding(idempotent(p.producerId(), 3, 0, "no id")), Status.Code.INVALID_ARGUMENT,
                "names its transactional_id");
        io.strata.metadata.Topic kept = metadata.createTopic(new TopicConfig("kept", 1, -1, -1,
                io.strata.metadata.CleanupPolicy.COMPACT, io.strata.metadata.Topic.DEFAULT_DELETE_RETENTION_MS)).join();
        ProduceRequest compacted = adding(transactional("ty", p.producerId(), first + 1, 0, 0, "k"));
        assertThat(produce(compacted.toBuilder().setEntries(0, compacted.getEntries(0).toBuilder().setTopic("kept"))
                .build()).getAppends(0).getBaseOffset()).as("a key-compacted topic takes transactions too").isZero();
        assertThat(valuesIn(kept.partition(0))).containsExactly("k");
        assertThat(valuesInStorage(0)).containsExactly("a", "b");
        assertThat(valuesInStorage(1)).containsExactly("d");
        assertThat(valuesInStorage(2)).containsExactly("c");
        assertThat(valuesInStorage(3)).isEmpty();
        assertThat(coordinator.describe("ty").join().orElseThrow().partitions())
                .extracting(t -> t.topicId() + "/" + t.partition())
                .containsExactly(topic.topicId() + "/1", kept.topicId() + "/0");
    }

    @Test
    void aRequestCarryingItsTransactionsCommitCommitsOnceItsRecordsAreStoredAndAgainAnswersTheSame() {
        startDefault();
        io.strata.transactions.coordinator.TransactionCoordinator coordinator = coordinator();
        io.strata.ingest.grpc.TransactionCommits commits = (id, producer, epoch) -> coordinator.commit(id, producer,
                (int) (epoch >>> 32), epoch).thenAccept(after -> assertThat(after.lastOutcome())
                .isEqualTo(io.strata.transactions.TransactionRecord.Outcome.COMMITTED));
        handler.useTransactions(new io.strata.ingest.txn.StoredTransactionMembership(metadata.transactions(),
                asTheNodeWiresIt(coordinator)), commits);
        io.strata.transactions.coordinator.TransactionCoordinator.Producer p =
                coordinator.initProducer("tz", 60_000).join();
        long first = io.strata.transactions.TransactionRecord.txnEpoch(p.producerEpoch(), 1);
        ProduceRequest last = committing(adding(transactional("tz", p.producerId(), first, 0, 0, "a", "b")));
        ProduceResponse answer = produce(last);
        assertThat(answer.getTransactionCommitted()).isTrue();
        assertThat(answer.hasTransactionError()).isFalse();
        io.strata.transactions.TransactionRecord committed = coordinator.describe("tz").join().orElseThrow();
        assertThat(committed.state()).isEqualTo(io.strata.transactions.TransactionRecord.State.READY);
        assertThat(committed.lastOutcome()).isEqualTo(io.strata.transactions.TransactionRecord.Outcome.COMMITTED);
        assertThat(committed.txnEpoch()).isEqualTo(first);

        ProduceResponse again = produce(last); // its answer lost, sent again
        assertThat(again.getAppends(0).getDuplicate()).isTrue();
        assertThat(again.getAppends(0).getBaseOffset()).isZero();
        assertThat(again.getTransactionCommitted()).as("answered as it stands").isTrue();
        // Its batch retried alone, without the flag, as the Java client does, where nothing of the transaction is
        // kept (another node, or seconds later): refused as over, then found committed, so answered as stored.
        handler.useTransactions(new io.strata.ingest.txn.StoredTransactionMembership(metadata.transactions(),
                asTheNodeWiresIt(coordinator)), commits);
        ProduceResponse retried = produce(adding(transactional("tz", p.producerId(), first, 0, 0, "a", "b")));
        assertThat(retried.getAppends(0).getDuplicate()).isTrue();
        assertThat(retried.getAppends(0).getBaseOffset()).isZero();
        assertThat(retried.getTransactionCommitted()).isFalse();
        assertStatus(committing(adding(transactional("tz", p.producerId(), first, 1, 0, "late"))),
                Status.Code.FAILED_PRECONDITION, "is no longer open");

        // A request with an entry not stored commits nothing: the transaction stays open, to be aborted.
        long second = first + 1;
        produce(adding(transactional("tz", p.producerId(), second, 2, 0, "c")));
        ProduceResponse gap = produce(committing(adding(transactional("tz", p.producerId(), second, 2, 5, "gap"))
                .toBuilder().addEntries(adding(transactional("tz", p.producerId(), second, 3, 0, "d"))
                        .getEntries(0)).build()));
        assertThat(gap.getAppends(0).hasError()).isTrue();
        assertThat(gap.getTransactionCommitted()).isFalse();
        assertThat(gap.getTransactionError().getMessage()).contains("not committed");
        assertThat(coordinator.describe("tz").join().orElseThrow().state())
                .isEqualTo(io.strata.transactions.TransactionRecord.State.ONGOING);
        assertStatus(committing(idempotent(p.producerId(), 3, 1, "no id")), Status.Code.INVALID_ARGUMENT,
                "names its transactional_id");
        assertThat(valuesInStorage(0)).containsExactly("a", "b");
        assertThat(valuesInStorage(1)).isEmpty();
        assertThat(valuesInStorage(2)).containsExactly("c");
        assertThat(valuesInStorage(3)).containsExactly("d");
    }

    @Test
    void aRequestHoldingAWholeTransactionIsStoredWithItsCommitInOneWriteAndAnAbortWhileItWaitsKeepsItOut()
            throws Exception {
        start(Duration.ofMillis(400), 1 << 20, 1 << 20, Duration.ofMillis(200)); // a block waits its linger
        io.strata.transactions.coordinator.TransactionCoordinator coordinator = coordinator();
        java.util.concurrent.atomic.AtomicInteger adds = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger commits = new java.util.concurrent.atomic.AtomicInteger();
        useCountedTransactions(coordinator, adds, commits);
        io.strata.transactions.coordinator.TransactionCoordinator.Producer p =
                coordinator.initProducer("tw", 60_000).join();
        long first = io.strata.transactions.TransactionRecord.txnEpoch(p.producerEpoch(), 1);
        ProduceRequest whole = committing(adding(transactional("tw", p.producerId(), first, 0, 0, "a", "b"))
                .toBuilder().addEntries(transactional("tw", p.producerId(), first, 1, 0, "c").getEntries(0)).build());
        ProduceResponse answer = produce(whole);
        assertThat(answer.getTransactionCommitted()).isTrue();
        assertThat(adds).as("its partitions were never added on their own: nothing began it before its block")
                .hasValue(0);
        assertThat(commits).as("committed by the write that stored its records: the coordinator is not asked")
                .hasValue(0);
        io.strata.transactions.TransactionRecord committed = coordinator.describe("tw").join().orElseThrow();
        assertThat(committed.state()).isEqualTo(io.strata.transactions.TransactionRecord.State.READY);
        assertThat(committed.lastOutcome()).isEqualTo(io.strata.transactions.TransactionRecord.Outcome.COMMITTED);
        assertThat(committed.txnEpoch()).isEqualTo(first);
        ProduceResponse again = produce(whole);
        assertThat(again.getAppends(0).getDuplicate()).as("sent again: the two-step path").isTrue();
        assertThat(again.getTransactionCommitted()).as("the coordinator finds it committed").isTrue();
        assertThat(commits).hasValue(1);

        // The next one, aborted by its epoch (as a producer whose request timed out does) while the request waits
        // in the open block: the write it was decided on no longer stands, and nothing of it is stored.
        long second = first + 1;
        CompletableFuture<ProduceResponse> waiting = handler.produce(committing(adding(transactional("tw",
                p.producerId(), second, 2, 0, "x"))));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (pipeline.bufferedBytes() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        assertThat(pipeline.bufferedBytes()).as("in the open block").isPositive();
        io.strata.transactions.TransactionRecord aborted = coordinator.abort("tw", p.producerId(),
                p.producerEpoch(), second).join();
        assertThat(aborted.lastOutcome()).isEqualTo(io.strata.transactions.TransactionRecord.Outcome.ABORTED);
        assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(StatusRuntimeException.class)
                .hasMessageContaining("FAILED_PRECONDITION").hasMessageContaining("is no longer open")
                .hasMessageContaining("record moved");
        assertThat(valuesInStorage(0)).containsExactly("a", "b");
        assertThat(valuesInStorage(1)).containsExactly("c");
        assertThat(valuesInStorage(2)).isEmpty();
        assertThat(coordinator.describe("tw").join().orElseThrow().txnEpoch()).isEqualTo(second);
    }

    @Test
    void wholeTransactionsSentBeforeTheLastOnesAnswerAreChainedToItEachInALaterBlockAndFailWithIt()
            throws Exception {
        start(Duration.ofMillis(100), 1 << 20, 1 << 20, Duration.ofMillis(200)); // each block waits its linger
        io.strata.transactions.coordinator.TransactionCoordinator coordinator = coordinator();
        java.util.concurrent.atomic.AtomicInteger adds = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger commits = new java.util.concurrent.atomic.AtomicInteger();
        useCountedTransactions(coordinator, adds, commits);
        io.strata.transactions.coordinator.TransactionCoordinator.Producer p =
                coordinator.initProducer("tc", 60_000).join();
        long first = io.strata.transactions.TransactionRecord.txnEpoch(p.producerEpoch(), 1);
        // Three whole transactions, each sent before the last one's answer, in the order a stream admits them.
        List<CompletableFuture<ProduceResponse>> answers = inOrder(
                committing(adding(transactional("tc", p.producerId(), first, 0, 0, "a", "b"))),
                committing(adding(transactional("tc", p.producerId(), first + 1, 0, 2, "c"))),
                committing(adding(transactional("tc", p.producerId(), first + 2, 0, 3, "d"))));
        long blocksBefore = pipeline.committer().blocksCommitted();
        for (CompletableFuture<ProduceResponse> answer : answers) {
            assertThat(answer.get(10, TimeUnit.SECONDS).getTransactionCommitted()).isTrue();
        }
        assertThat(adds).as("none was begun on its own").hasValue(0);
        assertThat(commits).as("each committed by the write that stored it").hasValue(0);
        assertThat(pipeline.committer().blocksCommitted() - blocksBefore).as("each after its predecessor's block")
                .isEqualTo(3);
        assertThat(coordinator.describe("tc").join().orElseThrow().txnEpoch()).isEqualTo(first + 2);
        assertThat(valuesInStorage(0)).containsExactly("a", "b", "c", "d");

        // The first of the next two aborted while it waits in its block: the one chained to it is not stored either.
        List<CompletableFuture<ProduceResponse>> failing = inOrder(
                committing(adding(transactional("tc", p.producerId(), first + 3, 1, 0, "x"))),
                committing(adding(transactional("tc", p.producerId(), first + 4, 2, 0, "y"))));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (pipeline.bufferedBytes() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        coordinator.abort("tc", p.producerId(), p.producerEpoch(), first + 3).join();
        for (CompletableFuture<ProduceResponse> answer : failing) {
            assertThatThrownBy(() -> answer.get(10, TimeUnit.SECONDS)).hasMessageContaining("FAILED_PRECONDITION")
                    .hasMessageContaining("is no longer open");
        }
        assertThatThrownBy(() -> failing.get(1).join()).hasMessageContaining("behind the producer's previous");
        assertThat(valuesInStorage(1)).isEmpty();
        assertThat(valuesInStorage(2)).isEmpty();
        assertThat(coordinator.describe("tc").join().orElseThrow().lastOutcome())
                .isEqualTo(io.strata.transactions.TransactionRecord.Outcome.ABORTED);
    }

    /** Transactions as the node wires them, counting the partitions added on their own and the commits asked for. */
    private void useCountedTransactions(io.strata.transactions.coordinator.TransactionCoordinator coordinator,
                                        java.util.concurrent.atomic.AtomicInteger adds,
                                        java.util.concurrent.atomic.AtomicInteger commits) {
        handler.useTransactions(new io.strata.ingest.txn.StoredTransactionMembership(metadata.transactions(),
                (id, producer, epoch, partitions) -> {
                    adds.incrementAndGet();
                    return asTheNodeWiresIt(coordinator).add(id, producer, epoch, partitions);
                }), (id, producer, epoch) -> {
                    commits.incrementAndGet();
                    return coordinator.commit(id, producer, (int) (epoch >>> 32), epoch).thenAccept(after ->
                            assertThat(after.lastOutcome())
                                    .isEqualTo(io.strata.transactions.TransactionRecord.Outcome.COMMITTED));
                });
    }

    /** Produces the requests as a produce stream does: each admitted once the one before it is in its block. */
    private List<CompletableFuture<ProduceResponse>> inOrder(ProduceRequest... requests) {
        List<CompletableFuture<ProduceResponse>> answers = new java.util.ArrayList<>();
        CompletableFuture<Void> previous = CompletableFuture.completedFuture(null);
        for (ProduceRequest request : requests) {
            CompletableFuture<Void> admitted = new CompletableFuture<>();
            answers.add(previous.thenCompose(v -> handler.produce(request, admitted)));
            previous = admitted;
        }
        return answers;
    }

    @Test
    void aWholeTransactionOverMorePartitionsThanOneWriteHoldsTakesTheTwoStepPathAndCommits() {
        startDefault();
        metadata.createTopic(new TopicConfig("wide", OneWriteTransaction.MAX_PARTITIONS + 1, -1, -1)).join();
        io.strata.transactions.coordinator.TransactionCoordinator coordinator = coordinator();
        java.util.concurrent.atomic.AtomicInteger adds = new java.util.concurrent.atomic.AtomicInteger();
        handler.useTransactions(new io.strata.ingest.txn.StoredTransactionMembership(metadata.transactions(),
                (id, producer, epoch, partitions) -> {
                    adds.incrementAndGet();
                    return asTheNodeWiresIt(coordinator).add(id, producer, epoch, partitions);
                }), (id, producer, epoch) -> coordinator.commit(id, producer, (int) (epoch >>> 32), epoch)
                .thenAccept(after -> { }));
        io.strata.transactions.coordinator.TransactionCoordinator.Producer p =
                coordinator.initProducer("wide-tx", 60_000).join();
        long first = io.strata.transactions.TransactionRecord.txnEpoch(p.producerEpoch(), 1);
        ProduceRequest.Builder whole = committing(adding(transactional("wide-tx", p.producerId(), first, 0, 0, "v")))
                .toBuilder().clearEntries();
        for (int partition = 0; partition <= OneWriteTransaction.MAX_PARTITIONS; partition++) {
            whole.addEntries(transactional("wide-tx", p.producerId(), first, partition, 0, "v").getEntries(0)
                    .toBuilder().setTopic("wide"));
        }
        ProduceResponse answer = produce(whole.build());
        assertThat(answer.getTransactionCommitted()).isTrue();
        assertThat(adds).as("begun by an add of its own").hasValue(1);
        assertThat(coordinator.describe("wide-tx").join().orElseThrow().lastOutcome())
                .isEqualTo(io.strata.transactions.TransactionRecord.Outcome.COMMITTED);
    }

    private static ProduceRequest committing(ProduceRequest request) {
        return request.toBuilder().setCommitTransaction(true).build();
    }

    private io.strata.transactions.coordinator.TransactionCoordinator coordinator() {
        return new io.strata.transactions.coordinator.TransactionCoordinator(metadata,
                io.strata.transactions.Transactions.DEFAULT_LIMITS, java.time.Clock.systemUTC());
    }

    private static ProduceRequest adding(ProduceRequest request) {
        return request.toBuilder().setAddPartitions(true).build();
    }

    @Test
    void anIdempotentRetryGetsTheOriginalOffsetsWhetherInTheSameBlockOrLater() {
        start(Duration.ofMillis(100), 1 << 20, 1 << 20, Duration.ofSeconds(1));
        long producer = newProducer();
        // The original and a retry arrive within one linger: one block, and the retry's records are skipped.
        CompletableFuture<ProduceResponse> original = handler.produce(idempotent(producer, 0, 0, "a", "b", "c"));
        CompletableFuture<ProduceResponse> sameBlockRetry = handler.produce(idempotent(producer, 0, 0, "a", "b", "c"));
        PartitionAppend first = original.join().getAppends(0);
        PartitionAppend second = sameBlockRetry.join().getAppends(0);
        assertThat(first.getBaseOffset()).isZero();
        assertThat(first.getDuplicate()).isFalse();
        assertThat(second.getBaseOffset()).isZero();
        assertThat(second.getDuplicate()).isTrue();
        // A retry after its acknowledgement was lost, in a later block.
        PartitionAppend later = produce(idempotent(producer, 0, 0, "a", "b", "c")).getAppends(0);
        assertThat(later.getDuplicate()).isTrue();
        assertThat(later.getBaseOffset()).isZero();
        assertThat(produce(idempotent(producer, 0, 3, "d")).getAppends(0).getBaseOffset()).isEqualTo(3);
        assertThat(valuesInStorage(0)).containsExactly("a", "b", "c", "d");
        assertThat(metadata.offsets(topic.partition(0)).join().nextOffset()).isEqualTo(4);
    }

    @Test
    void idempotentRequestsOutOfSequenceOrMalformedGetPreciseStatusesAndStoreNothing() {
        startDefault();
        long producer = newProducer();
        produce(idempotent(producer, 1, 0, "first"));
        assertStatus(idempotent(producer, 1, 5, "gap"), Status.Code.FAILED_PRECONDITION, "next expected sequence is 1");
        assertStatus(idempotent(producer + 1000, 1, 0, "x"), Status.Code.ABORTED, "unknown producer id");
        ProduceRequest noPartition = ProduceRequest.newBuilder().setProducerId(producer).addEntries(
                TopicPartitionRecords.newBuilder().setTopic("t").addRecords(Record.newBuilder()
                        .setValue(ByteString.copyFromUtf8("x")))).build();
        assertStatus(noPartition, Status.Code.INVALID_ARGUMENT, "names the partition");
        assertStatus(idempotent(producer, 1, 1, "x").toBuilder().setAcks(Acks.ACKS_NONE).build(),
                Status.Code.INVALID_ARGUMENT, "durable acks");
        assertStatus(request("t", 1, "x").toBuilder().setEntries(0, request("t", 1, "x").getEntries(0).toBuilder()
                .setBaseSequence(4)).build(), Status.Code.INVALID_ARGUMENT, "no producer id");
        assertThat(valuesInStorage(1)).containsExactly("first");
        // In a request with a good entry, the refused one carries its own error and the good one is stored.
        produce(idempotent(producer, 2, 0, "p2"));
        ProduceRequest mixed = idempotent(producer, 1, 1, "second").toBuilder()
                .addEntries(idempotent(producer, 2, 7, "gap").getEntries(0)).build();
        ProduceResponse response = produce(mixed);
        assertThat(response.getAppends(0).hasError()).isFalse();
        assertThat(response.getAppends(1).getError().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION.value());
        assertThat(valuesInStorage(1)).containsExactly("first", "second");
        assertThat(valuesInStorage(2)).containsExactly("p2");
    }

    private static ByteString encodedBatch(String... values) {
        BatchBuilder builder = new BatchBuilder();
        for (String v : values) {
            builder.append(new LogRecord(null, v.getBytes(StandardCharsets.UTF_8), List.of(), 1_700_000_000_000L));
        }
        return ByteString.copyFrom(builder.build(3));
    }

    private static ProduceRequest batchRequest(int partition, ByteString batch) {
        return ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic("t")
                .setPartition(partition).setBatch(batch)).build();
    }

    @Test
    void producerEncodedBatchesAreStoredAsTheyCameBesideSingleRecords() {
        startDefault();
        ProduceRequest mixed = batchRequest(3, encodedBatch("b1", "b2", "b3")).toBuilder()
                .addEntries(request("t", 3, "single").getEntries(0))
                .addEntries(batchRequest(3, encodedBatch("b4")).getEntries(0)).build();
        ProduceResponse response = produce(mixed);
        assertThat(response.getAppendsList()).extracting(PartitionAppend::getBaseOffset).containsExactly(0L, 3L, 4L);
        assertThat(response.getAppendsList()).extracting(PartitionAppend::getRecordCount).containsExactly(3, 1, 1);
        assertThat(valuesInStorage(3)).containsExactly("b1", "b2", "b3", "single", "b4");
    }

    @Test
    void aDamagedOrMisaddressedBatchIsRefusedAndNothingOfTheRequestIsStored() {
        startDefault();
        byte[] damaged = encodedBatch("x", "y").toByteArray();
        damaged[damaged.length - 3] ^= 0x40;
        assertStatus(batchRequest(0, ByteString.copyFrom(damaged)).toBuilder()
                .addEntries(0, request("t", 1, "good").getEntries(0)).build(), Status.Code.INVALID_ARGUMENT,
                "malformed");
        assertStatus(ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic("t")
                .setBatch(encodedBatch("x"))).build(), Status.Code.INVALID_ARGUMENT, "names no partition");
        assertStatus(batchRequest(0, encodedBatch("v".repeat(2_000))), Status.Code.INVALID_ARGUMENT, "over the limit");
        pipeline.flush().join();
        assertThat(objects.list("").join()).isEmpty();
    }

    @Test
    void aSmallBatchThatWouldInflatePastTheRequestLimitIsRefusedAndNothingStored() {
        startDefault();
        BatchBuilder builder = new BatchBuilder();
        for (int i = 0; i < 100; i++) {
            builder.append(new LogRecord(null, new byte[1_000], List.of(), 1_700_000_000_000L));
        }
        ByteString batch = ByteString.copyFrom(builder.build(3));
        assertThat(batch.size()).as("compressed, it is far under the limit").isLessThan(4_096);
        assertStatus(batchRequest(0, batch), Status.Code.INVALID_ARGUMENT, "as they inflate");
        pipeline.flush().join();
        assertThat(objects.list("").join()).isEmpty();
    }

    @Test
    void emptyRecordsAreNotFreeAgainstTheRequestLimit() {
        startDefault(); // requests of at most 64 KiB
        TopicPartitionRecords.Builder entry = TopicPartitionRecords.newBuilder().setTopic("t").setPartition(0);
        for (int i = 0; i < 3_000; i++) {
            entry.addRecords(Record.getDefaultInstance());
        }
        assertStatus(ProduceRequest.newBuilder().addEntries(entry).build(), Status.Code.INVALID_ARGUMENT,
                "over the limit");
    }

    @Test
    void aUnaryCallFindingTheRequestsWaitingForAdmissionAtTheirBoundIsRefusedAtOnce() {
        startDefault();
        handler.pending().take(handler.pending().capacity()); // as if other calls filled it
        assertThat(handler.produce(request("t", 0, "x"))).as("refused before it returns, not after a wait")
                .isCompletedExceptionally();
        assertStatus(request("t", 0, "x"), Status.Code.RESOURCE_EXHAUSTED, "waiting to enter its buffer");
        handler.pending().give(handler.pending().capacity());
        assertThat(produce(request("t", 0, "y")).getAppends(0).getBaseOffset()).isZero();
    }

    @Test
    void anIdempotentProducersRetriedBatchIsStoredOnce() {
        startDefault();
        long producer = newProducer();
        ProduceRequest request = batchRequest(2, encodedBatch("e1", "e2")).toBuilder().setProducerId(producer).build();
        assertThat(produce(request).getAppends(0).getDuplicate()).isFalse();
        PartitionAppend retry = produce(request).getAppends(0);
        assertThat(retry.getDuplicate()).isTrue();
        assertThat(retry.getBaseOffset()).isZero();
        assertThat(valuesInStorage(2)).containsExactly("e1", "e2");
    }

    @Test
    void aNodeStillCachingADeletedTopicStoresNothingInItAndAnswersNotFound() {
        startDefault();
        Topic other = metadata.createTopic(new TopicConfig("other", 1, -1, -1)).join();
        produce(request("t", 0, "before")); // the node now caches t under its first id
        produce(request("other", 0, "o1"));
        metadata.deleteTopic("t").join(); // deleted and re-created elsewhere: this node's cache is stale
        Topic recreated = metadata.createTopic(new TopicConfig("t", 4, -1, -1)).join();

        assertStatus(request("t", 0, "lost?"), Status.Code.NOT_FOUND, "'t' (id " + topic.topicId() + ") was deleted");
        ProduceResponse mixed = produce(request("t", 0, "lost?").toBuilder()
                .addEntries(request("other", 0, "o2").getEntries(0)).build());

        assertThat(mixed.getAppends(0).getError().getCode()).isEqualTo(Status.Code.NOT_FOUND.value());
        assertThat(mixed.getAppends(1).hasError()).isFalse();
        assertThat(mixed.getAppends(1).getBaseOffset()).isEqualTo(1);
        assertThat(valuesInStorage(0)).containsExactly("before");
        assertThat(metadata.offsets(recreated.partition(0)).join().nextOffset()).isZero();
        assertThat(metadata.offsets(other.partition(0)).join().nextOffset()).isEqualTo(2);
    }

    private void assertStatus(ProduceRequest request, Status.Code code, String descriptionPart) {
        assertThatThrownBy(() -> handler.produce(request).join())
                .isInstanceOf(CompletionException.class)
                .cause().isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(code);
                    assertThat(e.getStatus().getDescription()).contains(descriptionPart);
                });
    }

    private void assertStatus(ProduceRequest request, Status.Code code, String descriptionPart, String reason) {
        Throwable failure = handler.produce(request).handle((r, e) -> e).join();
        assertThat(failure).as("refused").isNotNull();
        assertThat(Status.fromThrowable(failure).getCode()).isEqualTo(code);
        assertThat(Status.fromThrowable(failure).getDescription()).contains(descriptionPart);
        assertThat(ErrorReason.of(failure)).isEqualTo(reason);
    }

    /**
     * The coordinator's adds as the node wires them (TransactionRole.addForBatches): a refusal arrives as its status,
     * not as the coordinator's exception.
     */
    private static io.strata.ingest.txn.StoredTransactionMembership.Adder asTheNodeWiresIt(
            io.strata.transactions.coordinator.TransactionCoordinator coordinator) {
        return (id, producer, epoch, partitions) -> coordinator.addForBatches(id, producer, epoch, partitions)
                .exceptionallyCompose(failure -> {
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause() : failure;
                    return java.util.concurrent.CompletableFuture.failedFuture(
                            cause instanceof io.strata.transactions.TransactionException refused
                                    ? io.strata.ingest.txn.TransactionStatus.of(refused) : cause);
                });
    }

    private ProduceResponse produce(ProduceRequest request) {
        return handler.produce(request).join();
    }

    @Test
    void delayedRecordsAreStagedApartWithTheirTimeAndOddTimesAreRefusedStoringNothing() {
        startDefault();
        long due = System.currentTimeMillis() + 60_000;
        ProduceRequest delayed = ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic("t")
                .setPartition(1).setDelayed(true)
                .addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8("later")).setDeliverAtMs(due))
                .addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8("later too"))
                        .addHeaders(io.strata.api.v1.Header.newBuilder().setKey(io.strata.format.DeliverAt.HEADER)
                                .setValue(ByteString.copyFromUtf8(Long.toString(due + 1)))))).build();
        assertThat(produce(delayed).getAppendsList()).singleElement().satisfies(a -> {
            assertThat(a.getPartition()).as("the partition they are for").isEqualTo(1);
            assertThat(a.getDelayed()).isTrue();
            assertThat(a.getBaseOffset()).as("no offset before delivery").isEqualTo(-1);
        });
        assertThat(valuesInStorage(1)).as("nothing in the partition itself").isEmpty();
        assertThat(metadata.offsets(topic.partition(1).staging()).join().nextOffset()).isEqualTo(2);
        assertThat(valuesIn(topic.partition(1).staging())).containsExactly("later", "later too");

        long tooFar = System.currentTimeMillis() + io.strata.format.DeliverAt.MAX_AHEAD_MS + 60_000;
        assertStatus(ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic("t")
                .setPartition(0).setDelayed(true).addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8("x"))
                        .setDeliverAtMs(tooFar))).build(), Status.Code.INVALID_ARGUMENT, "more than a year and a day");
        assertStatus(ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic("t")
                .setPartition(0).setDelayed(true).addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8("x"))))
                .build(), Status.Code.INVALID_ARGUMENT, "needs its delivery time");
        assertStatus(ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic("t")
                .setPartition(0).addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8("x"))
                        .setDeliverAtMs(due))).build(), Status.Code.INVALID_ARGUMENT, "not delayed");
        BatchBuilder undated = new BatchBuilder(1024);
        undated.append(new LogRecord(null, "x".getBytes(StandardCharsets.UTF_8), List.of(), 1L));
        ByteString undatedBatch = ByteString.copyFrom(undated.build(3));
        assertStatus(ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic("t")
                .setPartition(0).setDelayed(true).setBatch(undatedBatch)).build(),
                Status.Code.INVALID_ARGUMENT, "needs its delivery time");
        assertStatus(ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic("t")
                .setPartition(0).setDelayed(true).setHalf(true).addRecords(Record.newBuilder()
                        .setValue(ByteString.copyFromUtf8("x")).setDeliverAtMs(due))).build(),
                Status.Code.INVALID_ARGUMENT, "both delayed and half");
        assertStatus(ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic("t")
                .setPartition(0).setDelayed(true).setHalf(true).setBatch(undatedBatch))
                .build(), Status.Code.INVALID_ARGUMENT, "both delayed and half");
        assertThat(metadata.offsets(topic.partition(0).staging()).join().nextOffset()).isZero();
    }

    /** Reads a partition back the way a fetch node does: index entries, ranged reads, decoded chunks. */
    private List<String> valuesInStorage(int partition) {
        return valuesIn(topic.partition(partition));
    }

    private List<String> valuesIn(io.strata.metadata.PartitionId partition) {
        List<ChunkRef> chunks = new ArrayList<>();
        for (IndexEntry entry : metadata.readIndex().join().entries()) {
            entry.chunks().stream().filter(c -> c.partition().equals(partition)).forEach(chunks::add);
        }
        chunks.sort(Comparator.comparingLong(ChunkRef::baseOffset));
        List<String> values = new ArrayList<>();
        long expectedBase = 0;
        for (ChunkRef c : chunks) {
            assertThat(c.baseOffset()).isEqualTo(expectedBase);
            var bytes = objects.get(ObjectKey.of(c.objectKey()), ByteRange.of(c.byteOffset(), c.byteLength())).join();
            for (LogRecord r : c.withOffsets(ChunkCodec.decode(bytes, c.crc32c(), c.uncompressedLength(),
                    c.storedRecordCount()))) {
                values.add(new String(r.value(), StandardCharsets.UTF_8));
            }
            expectedBase = c.endOffset();
        }
        return values;
    }

    private static ProduceRequest request(String topic, int partition, String... values) {
        TopicPartitionRecords.Builder entry = TopicPartitionRecords.newBuilder().setTopic(topic).setPartition(partition);
        for (String v : values) {
            entry.addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8(v)));
        }
        return ProduceRequest.newBuilder().addEntries(entry).build();
    }
}
