package io.strata.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.TopicPartitionRecords;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ProducerTest {
    private static final ProducerConfig LONG_LINGER = ProducerConfig.DEFAULT.withLinger(Duration.ofMinutes(1));

    private final FakeStrata fake = new FakeStrata();
    private final StrataClient client = fake.client();

    @AfterEach
    void stop() throws InterruptedException {
        fake.produceGate = null;
        client.close();
        fake.close();
    }

    /** The records of an entry: the producer sends them as one batch it encoded and compressed. */
    private static List<io.strata.format.LogRecord> records(io.strata.api.v1.TopicPartitionRecords entry) {
        assertThat(entry.getRecordsCount()).as("records travel in a batch, not one by one").isZero();
        return io.strata.format.BatchCodec.decode(entry.getBatch().asReadOnlyByteBuffer());
    }

    @Test
    void recordsWithinOneLingerTravelInOneRequestAndGetConsecutiveOffsets() throws Exception {
        fake.createTopic("orders", 3);
        fake.append("orders", 1, "already there");
        Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ofMillis(300)));

        List<CompletableFuture<RecordMetadata>> sent = List.of(send(producer, "orders", 1, "a"),
                send(producer, "orders", 1, "b"), send(producer, "orders", 1, "c"));

        assertThat(join(sent)).containsExactly(new RecordMetadata("orders", 1, 1),
                new RecordMetadata("orders", 1, 2), new RecordMetadata("orders", 1, 3));
        assertThat(fake.produceRequests).hasSize(1);
        assertThat(fake.produceRequests.get(0).getEntriesList())
                .singleElement().satisfies(e -> assertThat(records(e)).hasSize(3));
    }

    @Test
    void eachPartitionIsOneEntryOfTheSameRequestWithItsOwnOffsets() throws Exception {
        fake.createTopic("orders", 3);
        Producer producer = client.producer(LONG_LINGER);

        List<CompletableFuture<RecordMetadata>> sent = List.of(send(producer, "orders", 0, "a"),
                send(producer, "orders", 2, "b"), send(producer, "orders", 0, "c"));
        producer.flush();

        assertThat(join(sent)).containsExactly(new RecordMetadata("orders", 0, 0),
                new RecordMetadata("orders", 2, 0), new RecordMetadata("orders", 0, 1));
        assertThat(fake.produceRequests).singleElement().satisfies(request ->
                assertThat(request.getEntriesList()).extracting(TopicPartitionRecords::getPartition)
                        .containsExactlyInAnyOrder(0, 2));
        assertThat(fake.values("orders", 0)).containsExactly("a", "c");
    }

    @Test
    void keyedRecordsGoToTheirMurmur2PartitionAndThePartitionCountIsLearntOnce() throws Exception {
        fake.createTopic("keyed", 5);
        Producer producer = client.producer(LONG_LINGER);

        // murmur2 partitions of 5, worked out in KeyPartitionerTest: "21" -> 0, "foobar" -> 1.
        CompletableFuture<RecordMetadata> first = producer.send("keyed", null, "21".getBytes(UTF_8), v("x"));
        CompletableFuture<RecordMetadata> second = producer.send("keyed", null, "foobar".getBytes(UTF_8), v("y"));
        CompletableFuture<RecordMetadata> third = producer.send("keyed", null, "21".getBytes(UTF_8), v("z"));
        producer.flush();

        assertThat(join(List.of(first, second, third))).containsExactly(new RecordMetadata("keyed", 0, 0),
                new RecordMetadata("keyed", 1, 0), new RecordMetadata("keyed", 0, 1));
        assertThat(fake.describeCalls).hasValue(1);
        assertThat(fake.produceRequests.get(0).getEntriesList()).allMatch(TopicPartitionRecords::hasPartition);
    }

    @Test
    void recordsWithoutKeyStickToOnePartitionWithinABatch() throws Exception {
        fake.createTopic("orders", 4);
        Producer producer = client.producer(LONG_LINGER);

        List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            sent.add(producer.send("orders", null, null, v("r" + i)));
        }
        producer.flush();

        List<RecordMetadata> stored = join(sent);
        assertThat(stored).extracting(RecordMetadata::partition).containsOnly(stored.get(0).partition());
        assertThat(stored).extracting(RecordMetadata::offset).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
    }

    @Test
    void aFullBatchIsSentWithoutWaitingForTheLinger() throws Exception {
        fake.createTopic("orders", 1);
        Producer producer = client.producer(LONG_LINGER.withMaxBatchBytes(100));

        CompletableFuture<RecordMetadata> big = producer.send("orders", 0, null, new byte[200]);

        assertThat(big.get(5, TimeUnit.SECONDS).offset()).isZero();
    }

    @Test
    void flushSendsWhatLingersAndWaitsForTheAnswers() {
        fake.createTopic("orders", 1);
        Producer producer = client.producer(LONG_LINGER);

        CompletableFuture<RecordMetadata> sent = send(producer, "orders", 0, "a");
        assertThat(sent).isNotDone();
        producer.flush();

        assertThat(sent).isCompletedWithValue(new RecordMetadata("orders", 0, 0));
    }

    @Test
    void closeWaitsForBufferedRecordsAndRefusesNewOnes() {
        fake.createTopic("orders", 1);
        Producer producer = client.producer(LONG_LINGER);
        CompletableFuture<RecordMetadata> sent = send(producer, "orders", 0, "a");

        producer.close();

        assertThat(sent).isCompletedWithValue(new RecordMetadata("orders", 0, 0));
        assertThat(send(producer, "orders", 0, "late")).isCompletedExceptionally();
    }

    @Test
    void aPartitionPipelinesItsRequestsAndItsRecordsKeepTheirSendOrder() throws Exception {
        fake.createTopic("orders", 2);
        Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ZERO));
        CountDownLatch gate = new CountDownLatch(1);
        fake.produceGate = gate;

        List<CompletableFuture<RecordMetadata>> sent = new java.util.ArrayList<>();
        for (int i = 0; i < 30; i++) {
            sent.add(send(producer, "orders", 0, "r" + i));
            Thread.sleep(2);
        }
        gate.countDown();
        producer.flush();

        assertThat(join(sent)).extracting(RecordMetadata::offset)
                .containsExactlyElementsOf(java.util.stream.LongStream.range(0, 30).boxed().toList());
        assertThat(fake.values("orders", 0)).containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, 30).mapToObj(i -> "r" + i).toList());
        assertThat(fake.produceRequests.size()).as("several requests were out at once").isGreaterThan(1);
    }

    @Test
    void unavailableAndResourceExhaustedAreRetried() throws Exception {
        fake.createTopic("orders", 1);
        fake.produceFailures.add(Status.UNAVAILABLE.withDescription("node restarting"));
        fake.produceFailures.add(Status.RESOURCE_EXHAUSTED.withDescription("buffer full"));
        Producer producer = client.producer(LONG_LINGER);

        CompletableFuture<RecordMetadata> sent = send(producer, "orders", 0, "a");
        producer.flush();

        assertThat(sent.get().offset()).isZero();
        assertThat(fake.produceRequests).hasSize(3);
        assertThat(fake.values("orders", 0)).containsExactly("a");
    }

    @Test
    void aNodeThatDoesNotAnswerInitProducerIsRetriedNotFatal() throws Exception {
        fake.createTopic("orders", 1);
        // As when the node the router picked was just killed: its registration outlives it for a few seconds.
        fake.initProducerFailures.add(Status.UNAVAILABLE.withDescription("Connection refused"));
        fake.initProducerFailures.add(Status.UNAVAILABLE.withDescription("Connection refused"));
        Producer producer = client.producer(LONG_LINGER);

        CompletableFuture<RecordMetadata> sent = send(producer, "orders", 0, "a");
        producer.flush();

        assertThat(sent.get(10, java.util.concurrent.TimeUnit.SECONDS).offset()).isZero();
        assertThat(fake.initProducerFailures).isEmpty();
        assertThat(fake.values("orders", 0)).containsExactly("a");
    }

    @Test
    void manyBatchesOfAPartitionRetriedAfterAFailedInitProducerAndAFailedSendKeepTheirOrder() throws Exception {
        fake.createTopic("orders", 1);
        fake.initProducerFailures.add(Status.UNAVAILABLE.withDescription("Connection refused"));
        fake.initProducerFailures.add(Status.DEADLINE_EXCEEDED.withDescription("no answer"));
        fake.produceFailures.add(Status.OK);
        fake.produceFailures.add(Status.UNAVAILABLE.withDescription("node restarting"));
        // Two records a batch: six batches of one partition, numbered only once sent (0, 2, 4, ...), so the
        // second one's retry is filed under sequence 2 beside the batches still waiting to be numbered.
        Producer producer = client.producer(LONG_LINGER.withMaxBatchBytes(250));

        List<CompletableFuture<RecordMetadata>> sent = new java.util.ArrayList<>();
        List<String> values = new java.util.ArrayList<>();
        for (int i = 0; i < 12; i++) {
            // Incompressible, so that two records fill a batch.
            values.add(String.format("r%02d", i) + new java.util.Random(i).ints(97, 'a', 'z' + 1)
                    .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append));
            sent.add(send(producer, "orders", 0, values.get(i)));
        }
        // A batch lost between the retry queues would leave flush waiting forever.
        CompletableFuture.runAsync(producer::flush).get(30, TimeUnit.SECONDS);

        assertThat(join(sent)).extracting(RecordMetadata::offset)
                .containsExactlyElementsOf(java.util.stream.LongStream.range(0, 12).boxed().toList());
        assertThat(fake.values("orders", 0)).containsExactlyElementsOf(values);
    }

    @Test
    void retriesStopAtTheDeliveryTimeoutWithTheLastStatus() {
        fake.createTopic("orders", 1);
        for (int i = 0; i < 1_000; i++) {
            fake.produceFailures.add(Status.UNAVAILABLE.withDescription("node restarting"));
        }
        Producer producer = client.producer(LONG_LINGER.withDeliveryTimeout(Duration.ofMillis(800)));

        long start = System.nanoTime();
        CompletableFuture<RecordMetadata> sent = send(producer, "orders", 0, "a");
        producer.flush();

        assertFailsWith(sent, Status.Code.UNAVAILABLE, "node restarting");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(800));
        assertThat(fake.produceRequests.size()).as("retried with back-off, not in a tight loop").isBetween(3, 20);
        assertThat(fake.values("orders", 0)).isEmpty();
    }

    @Test
    void otherErrorsFailTheRecordsWithoutRetrying() {
        fake.createTopic("orders", 1);
        fake.produceFailures.add(Status.INVALID_ARGUMENT.withDescription("record too large"));
        Producer producer = client.producer(LONG_LINGER);

        CompletableFuture<RecordMetadata> sent = send(producer, "orders", 0, "a");
        producer.flush();

        assertFailsWith(sent, Status.Code.INVALID_ARGUMENT, "record too large");
        assertThat(fake.produceRequests).hasSize(1);
    }

    @Test
    void sendingToAnUnknownTopicFailsWithTheServersDescription() {
        Producer producer = client.producer(LONG_LINGER);

        assertFailsWith(producer.send("nope", null, null, v("a")), Status.Code.NOT_FOUND, "unknown topic 'nope'");
        CompletableFuture<RecordMetadata> named = send(producer, "nope", 0, "a");
        producer.flush();
        assertFailsWith(named, Status.Code.NOT_FOUND, "unknown topic 'nope'");
    }

    @Test
    void headersAndTimestampTravelWithTheRecord() {
        fake.createTopic("orders", 1);
        Producer producer = client.producer(LONG_LINGER);

        producer.send("orders", 0, "k".getBytes(UTF_8), v("a"), List.of(new RecordHeader("trace", v("t1"))), 1234L);
        producer.flush();

        var record = records(fake.produceRequests.get(0).getEntries(0)).get(0);
        assertThat(new String(record.key(), UTF_8)).isEqualTo("k");
        assertThat(record.timestampMs()).isEqualTo(1234L);
        assertThat(record.headers().get(0).key()).isEqualTo("trace");
        assertThat(new String(record.headers().get(0).value(), UTF_8)).isEqualTo("t1");
    }

    private static CompletableFuture<RecordMetadata> send(Producer producer, String topic, int partition, String value) {
        return producer.send(topic, partition, null, v(value));
    }

    private static byte[] v(String value) {
        return value.getBytes(UTF_8);
    }

    private static List<RecordMetadata> join(List<CompletableFuture<RecordMetadata>> futures) throws Exception {
        List<RecordMetadata> out = new ArrayList<>();
        for (CompletableFuture<RecordMetadata> f : futures) {
            out.add(f.get(10, TimeUnit.SECONDS));
        }
        return out;
    }

    private static void assertFailsWith(CompletableFuture<?> future, Status.Code code, String description) {
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(StrataException.class, e -> {
                    assertThat(e.code()).isEqualTo(code);
                    assertThat(e.description()).isEqualTo(description);
                });
    }

    /** Waits for something another thread brings about; the fake answers in milliseconds. */
    private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition not met within 10 s").isLessThan(until);
            Thread.sleep(5);
        }
    }

    @Test
    void idempotentRequestsCarryTheIdAndConsecutiveSequencesWithEveryReadyBatchOfAPartition() throws Exception {
        fake.createTopic("orders", 1);
        // One request in flight: the batches made while it is held wait, and then go together.
        Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ZERO).withMaxBatchBytes(64)
                .withMaxInFlightRequests(1));
        CountDownLatch gate = new CountDownLatch(1);
        fake.produceGate = gate;
        CompletableFuture<RecordMetadata> first = send(producer, "orders", 0, "first");
        awaitTrue(() -> fake.produceRequests.size() == 1);
        List<CompletableFuture<RecordMetadata>> more = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            more.add(send(producer, "orders", 0, "value-number-" + i + "-" + "x".repeat(20)));
        }
        gate.countDown();
        producer.flush();
        var firstRequest = fake.produceRequests.get(0);
        var second = fake.produceRequests.get(1);
        assertThat(firstRequest.getProducerId()).isPositive();
        assertThat(second.getProducerId()).isEqualTo(firstRequest.getProducerId());
        assertThat(firstRequest.getEntries(0).getBaseSequence()).isZero();
        assertThat(second.getEntriesCount()).as("every ready batch of the partition in one request").isGreaterThan(1);
        long expected = 1;
        for (var entry : second.getEntriesList()) {
            assertThat(entry.getBaseSequence()).isEqualTo(expected);
            expected += records(entry).size();
        }
        assertThat(first.get().offset()).isZero();
        assertThat(join(more)).extracting(RecordMetadata::offset).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    }

    @Test
    void batchesStoredButUnansweredWhenTheStreamBreaksAreAnsweredAsDuplicatesAndStoredOnce() throws Exception {
        fake.createTopic("orders", 1);
        fake.nextStreamLosesAnswers = true;
        // One record a batch, each sent as soon as it is made, far more than the node's window.
        Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ZERO).withMaxBatchBytes(64));
        List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
        List<String> values = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            values.add(String.format("record-%02d-", i) + "x".repeat(60));
            sent.add(send(producer, "orders", 0, values.get(i)));
            Thread.sleep(3);
        }
        CompletableFuture.runAsync(producer::flush).get(30, TimeUnit.SECONDS);

        assertThat(fake.mostUnansweredBatches.get()).as("batches of the partition out at once")
                .isBetween(1, FakeStrata.WINDOW);
        assertThat(join(sent)).extracting(RecordMetadata::offset)
                .containsExactlyElementsOf(java.util.stream.LongStream.range(0, 12).boxed().toList());
        assertThat(fake.values("orders", 0)).containsExactlyElementsOf(values);
    }

    @Test
    void aBatchThatMayBeStoredIsRetriedUnderItsOwnIdWhenAnotherFailsForGoodMeanwhile() throws Exception {
        fake.createTopic("orders", 2);
        Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ZERO));
        fake.nextStreamLosesAnswers = true;
        CompletableFuture<RecordMetadata> stored = send(producer, "orders", 0, "stored, answer lost");
        awaitTrue(() -> fake.brokenStreams.get() == 1); // its retry now waits out its back-off
        fake.produceFailures.add(Status.INVALID_ARGUMENT.withDescription("refused"));
        CompletableFuture<RecordMetadata> refused = send(producer, "orders", 1, "refused for good");
        producer.flush();

        assertFailsWith(refused, Status.Code.INVALID_ARGUMENT, "refused");
        assertThat(stored.get(10, TimeUnit.SECONDS).offset()).isZero();
        assertThat(fake.values("orders", 0)).as("the retry was a duplicate, not a new producer's first batch")
                .containsExactly("stored, answer lost");
        long firstId = fake.produceRequests.get(0).getProducerId();
        assertThat(fake.produceRequests).filteredOn(r -> r.getEntries(0).getPartition() == 0)
                .extracting(ProduceRequest::getProducerId).containsOnly(firstId);
    }

    @Test
    void aRecordLargerThanARequestMayBeIsRefusedBySendNotSent() {
        fake.createTopic("orders", 1);
        Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ZERO));
        CompletableFuture<RecordMetadata> huge = producer.send("orders", 0, null,
                new byte[ProducerConfig.DEFAULT.maxRequestBytes() + 1]);
        assertThatThrownBy(() -> huge.get(10, TimeUnit.SECONDS)).cause()
                .isInstanceOfSatisfying(StrataException.class, e -> {
                    assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.description()).contains("larger than a request may be");
                });
        assertThat(fake.produceRequests).isEmpty();
    }

    @Test
    void afterABatchFailsForGoodTheProducerTakesANewIdAndNumbersAfresh() throws Exception {
        fake.createTopic("orders", 1);
        Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ZERO));
        fake.produceFailures.add(Status.INVALID_ARGUMENT.withDescription("refused"));
        assertFailsWith(send(producer, "orders", 0, "lost"), Status.Code.INVALID_ARGUMENT, "refused");
        CompletableFuture<RecordMetadata> next = send(producer, "orders", 0, "kept");
        producer.flush();
        assertThat(next.get().offset()).isZero();
        var failed = fake.produceRequests.get(0);
        var retried = fake.produceRequests.get(1);
        assertThat(retried.getProducerId()).isNotEqualTo(failed.getProducerId());
        assertThat(retried.getEntries(0).getBaseSequence()).isZero();
    }

    @Test
    void aProducerWhoseStateTheNodeForgotStartsAfreshAndItsRecordsAreStoredOnce() throws Exception {
        fake.createTopic("orders", 1);
        Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ZERO));
        assertThat(send(producer, "orders", 0, "a").get().offset()).isZero();
        fake.forgetProducers(); // as a node does once the producer was idle past strata.producer.state-expiry

        assertThat(send(producer, "orders", 0, "b").get(10, java.util.concurrent.TimeUnit.SECONDS).offset()).isEqualTo(1);

        assertThat(fake.values("orders", 0)).containsExactly("a", "b");
        var first = fake.produceRequests.get(0);
        var last = fake.produceRequests.get(fake.produceRequests.size() - 1);
        assertThat(last.getProducerId()).isNotEqualTo(first.getProducerId());
        assertThat(last.getEntries(0).getBaseSequence()).isZero();
    }

    @Test
    void aBatchAnEarlierAttemptOfWhichMayBeStoredFailsWhenTheNodeNoLongerKnowsTheProducer() throws Exception {
        fake.createTopic("orders", 1);
        Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ZERO));
        assertThat(send(producer, "orders", 0, "a").get().offset()).isZero();
        fake.nextRequestStoredThenProducersForgotten.set(true);

        CompletableFuture<RecordMetadata> b = send(producer, "orders", 0, "b");
        assertThatThrownBy(() -> b.get(10, TimeUnit.SECONDS)).cause().isInstanceOfSatisfying(StrataException.class, e -> {
            assertThat(e.code()).isEqualTo(Status.Code.ABORTED);
            assertThat(e.description()).contains("no state");
        });
        assertThat(fake.values("orders", 0)).as("failed, not stored a second time").containsExactly("a", "b");
        assertThat(send(producer, "orders", 0, "c").get(10, TimeUnit.SECONDS).offset()).as("the producer goes on")
                .isEqualTo(2);
    }
}
