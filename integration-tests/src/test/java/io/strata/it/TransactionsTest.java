package io.strata.it;

import static io.strata.testkit.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.cli.StrataCli;
import io.strata.client.Consumer;
import io.strata.client.ConsumerConfig;
import io.strata.client.ConsumerRecord;
import io.strata.client.Producer;
import io.strata.client.StrataClient;
import io.strata.client.StrataException;
import io.strata.client.Transactions;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transactions against a node on real etcd and S3 (docs/transactions.md), through the Java client and the CLI as
 * users run them: a transaction over three topics and twenty partitions is seen all or nothing by read-committed
 * consumers and whole by read-uncommitted ones; a new producer of a transactional id fences the old one; a producer
 * process killed mid-transaction is aborted within its timeout, and the last stable offset moves on; half messages
 * whose producer is gone survive a node's crash and are decided, once, by check-back to another producer of their
 * group.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TransactionsTest {
    @TempDir
    static Path work;
    private StrataCluster cluster;
    private StrataProcess node;
    private StrataClient client;

    @BeforeAll
    void start() {
        cluster = new StrataCluster(work);
        // Half messages are checked every second, and rolled back after 8 checks, so the test need not wait minutes.
        node = cluster.start("node-1", "ingest,fetch", Map.of("strata.half.check-interval", "1s",
                "strata.half.max-checks", "8"));
        client = StrataClient.builder().server(node.address()).deadline(Duration.ofSeconds(30)).build();
    }

    @AfterAll
    void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private CliRun.Outcome strata(String stdin, String... args) {
        return CliRun.strata(node.address(), stdin, args);
    }

    /** Every record of the topic from its start, until none came for a second; per partition in offset order. */
    private List<ConsumerRecord> readAll(String topic, boolean committed) {
        Consumer consumer = client.consumer(topic, ConsumerConfig.DEFAULT.withReadCommitted(committed));
        consumer.assignAll();
        consumer.seekToBeginning();
        List<ConsumerRecord> all = new ArrayList<>();
        for (List<ConsumerRecord> got = consumer.poll(Duration.ofSeconds(2)); !got.isEmpty();
             got = consumer.poll(Duration.ofSeconds(1))) {
            all.addAll(got);
        }
        consumer.close();
        return all;
    }

    private static List<String> values(List<ConsumerRecord> records) {
        return records.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
    }

    @Test
    void anAbortedCliTransactionOverTwoTopicsIsInvisibleToReadCommittedConsumersAndACommittedOneAppearsWhole() {
        assertThat(strata("", "topics", "create", "cli-a", "--partitions", "2").exitCode()).isZero();
        assertThat(strata("", "topics", "create", "cli-b", "--partitions", "3").exitCode()).isZero();
        CliRun.Outcome aborted = strata("cli-a\tone\ncli-b\ttwo\ncli-a\tthree\n", "produce", "--topic-from-input",
                "--transactional-id", "cli", "--abort");
        assertThat(aborted.exitCode()).as(aborted.err()).isZero();
        assertThat(aborted.err()).contains("produced 3 records to cli-a, cli-b in a transaction of cli, aborted");
        for (String topic : List.of("cli-a", "cli-b")) {
            CliRun.Outcome committed = strata("", "consume", topic, "--from-beginning", "--isolation-level",
                    "read_committed", "--timeout-ms", "1500");
            assertThat(committed.out()).as("read committed: nothing of the aborted transaction").isEmpty();
        }
        assertThat(strata("", "consume", "cli-a", "--from-beginning", "--timeout-ms", "1500").out().lines())
                .as("read uncommitted: every stored record").containsExactlyInAnyOrder("one", "three");

        CliRun.Outcome commit = strata("cli-a\tfour\ncli-b\tfive\n", "produce", "--topic-from-input",
                "--transactional-id", "cli");
        assertThat(commit.exitCode()).as(commit.err()).isZero();
        assertThat(strata("", "consume", "cli-b", "--from-beginning", "--isolation-level", "read_committed",
                "--timeout-ms", "1500").out().lines()).containsExactly("five");
        assertThat(strata("", "consume", "cli-a", "--from-beginning", "--isolation-level", "read_committed",
                "--timeout-ms", "1500").out().lines()).containsExactly("four");
        CliRun.Outcome list = strata("", "transactions", "list");
        assertThat(list.out()).containsPattern("cli +\\d+ +1 +READY +- +0 +COMMITTED");
    }

    @Test
    void aTransactionOverThreeTopicsAndTwentyPartitionsIsSeenAllOrNothing() throws Exception {
        Map<String, Integer> topics = Map.of("tx-x", 8, "tx-y", 6, "tx-z", 6);
        topics.forEach((t, n) -> client.admin().createTopic(t, n));
        Producer producer = client.transactionalProducer("pipeline", io.strata.client.ProducerConfig.DEFAULT,
                Duration.ofSeconds(60));
        List<String> committed = new ArrayList<>();
        for (String outcome : List.of("aborted", "committed", "open")) {
            producer.beginTransaction();
            for (String topic : topics.keySet()) {
                for (int p = 0; p < topics.get(topic); p++) {
                    for (int i = 0; i < 5; i++) {
                        String value = outcome + "-" + topic + "-" + p + "-" + i;
                        producer.send(topic, p, null, value.getBytes(StandardCharsets.UTF_8));
                        if (outcome.equals("committed")) {
                            committed.add(value);
                        }
                    }
                }
            }
            if (outcome.equals("aborted")) {
                producer.abortTransaction();
            } else if (outcome.equals("committed")) {
                producer.commitTransaction();
            } else {
                producer.flush(); // stored, left open
            }
        }
        List<ConsumerRecord> seen = new ArrayList<>();
        List<ConsumerRecord> everything = new ArrayList<>();
        for (String topic : topics.keySet()) {
            seen.addAll(readAll(topic, true));
            everything.addAll(readAll(topic, false));
        }
        assertThat(values(seen)).as("read committed: the committed transaction, each record once")
                .containsExactlyInAnyOrderElementsOf(committed);
        assertThat(everything).as("read uncommitted: all three").hasSize(3 * 100);
        Map<String, Long> last = new HashMap<>();
        for (ConsumerRecord r : seen) {
            Long before = last.put(r.topic() + "/" + r.partition(), r.offset());
            assertThat(before == null || before < r.offset()).as("offset order").isTrue();
        }
        Transactions.Description open = client.transactions().describe("pipeline");
        assertThat(open.state()).isEqualTo("ONGOING");
        assertThat(open.partitions()).hasSize(20);
        assertThat(client.admin().listOffsets("tx-x", 0, io.strata.client.OffsetQuery.latest(), true).offset())
                .as("the last stable offset: where the open transaction began").isEqualTo(10);
        producer.abortTransaction();
        producer.close();
        assertThat(client.admin().listOffsets("tx-x", 0, io.strata.client.OffsetQuery.latest(), true).offset())
                .isEqualTo(15);
    }

    @Test
    void transactionsCommittedWithoutWaitingAreStoredWholeInOrderAndTheOneOpenWhenItsProducerIsFencedFails()
            throws Exception {
        client.admin().createTopic("pipelined", 4);
        Producer producer = client.transactionalProducer("pipelined", io.strata.client.ProducerConfig.DEFAULT,
                Duration.ofSeconds(60));
        List<java.util.concurrent.CompletableFuture<Void>> commits = new ArrayList<>();
        int answeredAtOnce = 0;
        for (int t = 0; t < 60; t++) {
            producer.beginTransaction(); // while the last one's commit is out
            for (int r = 0; r < 10; r++) {
                // Most transactions to one partition, every fifth to two: each goes whole in one request.
                int partition = t % 5 == 4 && r % 2 == 1 ? (t + 1) % 4 : t % 4;
                producer.send("pipelined", partition, null, ("t" + t + "-" + r).getBytes(StandardCharsets.UTF_8));
            }
            java.util.concurrent.CompletableFuture<Void> commit = producer.commitTransactionAsync();
            answeredAtOnce += commit.isDone() ? 1 : 0;
            commits.add(commit);
        }
        for (java.util.concurrent.CompletableFuture<Void> commit : commits) {
            commit.get(30, TimeUnit.SECONDS);
        }
        assertThat(answeredAtOnce).as("commits that returned before their answer").isLessThan(60);
        List<ConsumerRecord> seen = readAll("pipelined", true);
        assertThat(seen).as("read committed: every record once").hasSize(600)
                .extracting(r -> new String(r.value(), StandardCharsets.UTF_8)).doesNotHaveDuplicates();
        Map<Integer, Integer> lastTxn = new HashMap<>();
        for (ConsumerRecord r : seen) {
            int txn = Integer.parseInt(new String(r.value(), StandardCharsets.UTF_8).split("-")[0].substring(1));
            Integer before = lastTxn.put(r.partition(), txn);
            assertThat(before == null || before <= txn).as("transactions in the order they were sent").isTrue();
        }
        assertThat(client.transactions().describe("pipelined").txnEpoch() & 0xffffffffL).isEqualTo(60);

        // One commit out, the next transaction open, then a newer producer of the id: the open one cannot commit,
        // and what the cluster stored of the one out is seen exactly as its answer said.
        producer.beginTransaction();
        producer.send("pipelined", 0, null, "out".getBytes(StandardCharsets.UTF_8));
        java.util.concurrent.CompletableFuture<Void> out = producer.commitTransactionAsync();
        producer.beginTransaction();
        producer.send("pipelined", 1, null, "open".getBytes(StandardCharsets.UTF_8));
        Producer successor = client.transactionalProducer("pipelined");
        assertThatThrownBy(() -> producer.commitTransactionAsync().get(30, TimeUnit.SECONDS))
                .hasMessageContaining("FAILED_PRECONDITION");
        boolean outCommitted;
        try {
            out.get(30, TimeUnit.SECONDS);
            outCommitted = true;
        } catch (java.util.concurrent.ExecutionException notCommitted) {
            outCommitted = false;
        }
        List<String> after = values(readAll("pipelined", true)).stream().filter(v -> !v.startsWith("t")).toList();
        assertThat(after).containsExactlyElementsOf(outCommitted ? List.of("out") : List.of());
        successor.beginTransaction();
        successor.send("pipelined", 1, null, "successor".getBytes(StandardCharsets.UTF_8));
        successor.commitTransactionAsync().get(30, TimeUnit.SECONDS);
        assertThat(values(readAll("pipelined", true))).doesNotContain("open").contains("successor");
        producer.close();
        successor.close();
    }

    @Test
    void pipelinedTransactionsThroughANodeCrashAreEachSeenWholeOrNotAtAllAsTheirProducerWasTold() throws Exception {
        client.admin().createTopic("pipelined-crash", 2);
        Map<Integer, String> told = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger begun = new java.util.concurrent.atomic.AtomicInteger();
        Thread writer = new Thread(() -> {
            Producer producer = pipelinedProducer();
            while (!stop.get()) {
                int txn = begun.getAndIncrement();
                try {
                    producer.beginTransaction();
                    for (int r = 0; r < 5; r++) {
                        producer.send("pipelined-crash", txn % 2, null, ("k" + txn + "-" + r)
                                .getBytes(StandardCharsets.UTF_8));
                    }
                    producer.commitTransactionAsync().whenComplete((v, failure) -> told.put(txn, failure == null
                            ? "committed" : String.valueOf(failure.getMessage()).contains("is unknown") ? "unknown"
                            : "not committed"));
                } catch (RuntimeException failed) {
                    // Never committed by this producer (its commit did not go, or was refused): aborted, or left to
                    // the next producer of the id, which aborts what is open.
                    told.put(txn, "unknown");
                    try {
                        producer.abortTransaction();
                        told.put(txn, "not committed");
                    } catch (RuntimeException cannot) {
                        if (String.valueOf(cannot.getMessage()).contains("committed before the abort")) {
                            told.put(txn, "committed");
                        }
                        producer.close();
                        producer = pipelinedProducer();
                    }
                }
            }
            producer.close();
        }, "pipelined-writer");
        writer.start();
        try {
            await(() -> told.values().stream().filter("committed"::equals).count() >= 20, Duration.ofSeconds(30),
                    "20 transactions committed");
            node.kill(); // SIGKILL, with commits out
            int beforeRestart = begun.get();
            node.start();
            await(() -> told.entrySet().stream().anyMatch(e -> e.getKey() > beforeRestart + 20
                    && e.getValue().equals("committed")), Duration.ofSeconds(60), "transactions committed again");
        } finally {
            stop.set(true);
            writer.join(60_000);
        }
        assertThat(writer.isAlive()).isFalse();

        Map<Integer, List<String>> seen = new HashMap<>();
        for (String v : values(readAll("pipelined-crash", true))) {
            seen.computeIfAbsent(Integer.parseInt(v.substring(1, v.indexOf('-'))), k -> new ArrayList<>()).add(v);
        }
        for (int txn = 0; txn < begun.get(); txn++) {
            List<String> records = seen.getOrDefault(txn, List.of());
            String outcome = told.getOrDefault(txn, "unknown");
            assertThat(records).as("transaction %d, told %s: whole or not at all, each record once", txn, outcome)
                    .satisfiesAnyOf(r -> assertThat(r).isEmpty(), r -> assertThat(r).hasSize(5).doesNotHaveDuplicates());
            if (outcome.equals("committed")) {
                assertThat(records).as("transaction %d, told committed", txn).hasSize(5);
            } else if (outcome.equals("not committed")) {
                assertThat(records).as("transaction %d, told not committed", txn).isEmpty();
            }
        }
        assertThat(told.values()).as("the crash failed some").anyMatch(o -> !o.equals("committed"));
    }

    private Producer pipelinedProducer() {
        while (true) {
            try {
                return client.transactionalProducer("pipelined-crash", io.strata.client.ProducerConfig.DEFAULT,
                        Duration.ofSeconds(10));
            } catch (StrataException unreachable) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw unreachable;
                }
            }
        }
    }

    /** Kafka's Java transactional producer and read-committed consumer, through the node's Kafka port. */
    @Test
    void kafkasTransactionalProducerAndReadCommittedConsumersWorkThroughTheKafkaPort() throws Exception {
        client.admin().createTopic("k-a", 2);
        client.admin().createTopic("k-b", 2);
        java.util.Properties settings = new java.util.Properties();
        settings.put("bootstrap.servers", node.kafkaAddress());
        settings.put("transactional.id", "kafka-etl");
        settings.put("linger.ms", "5");
        List<String> committed = new ArrayList<>();
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(settings,
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.initTransactions();
            for (String outcome : List.of("aborted", "committed", "committed-too")) {
                producer.beginTransaction();
                for (String topic : List.of("k-a", "k-b")) {
                    for (int i = 0; i < 6; i++) {
                        String value = outcome + "-" + topic + "-" + i;
                        producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, i % 2, null,
                                value.getBytes(StandardCharsets.UTF_8)));
                        if (!outcome.equals("aborted")) {
                            committed.add(value);
                        }
                    }
                }
                if (outcome.equals("aborted")) {
                    producer.flush(); // stored first: Kafka's producer drops what it has not sent when it aborts
                    producer.abortTransaction();
                } else {
                    if (outcome.equals("committed")) {
                        producer.flush();
                        kafkaAdminSeesAnOpenTransaction("kafka-etl");
                    }
                    producer.commitTransaction();
                }
            }
            kafkaAdminSeesAnEndedTransaction("kafka-etl");
            // A new producer of the id fences this one: its next transaction cannot commit.
            try (var successor = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(settings,
                    new org.apache.kafka.common.serialization.ByteArraySerializer(),
                    new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                successor.initTransactions();
                assertThatThrownBy(() -> {
                    producer.beginTransaction();
                    producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("k-a", 0, null,
                            "zombie".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
                    producer.commitTransaction();
                }).hasStackTraceContaining("ProducerFencedException");
            }
        }
        assertThat(kafkaRead(List.of("k-a", "k-b"), "read_committed", committed.size()))
                .as("read committed through the Kafka port").containsExactlyInAnyOrderElementsOf(committed);
        assertThat(kafkaRead(List.of("k-a", "k-b"), "read_uncommitted", 36)).as("every stored record").hasSize(36);
        assertThat(strata("", "consume", "k-b", "--from-beginning", "--isolation-level", "read_committed",
                "--timeout-ms", "1500").out().lines()).as("and through Strata's own door")
                .containsExactlyInAnyOrderElementsOf(committed.stream().filter(v -> v.contains("-k-b-")).toList());
        kafkaConsumeTransformProduceCommitsTheGroupsOffsetsWithItsOutput();
        kafkaTransactionsAbortEndsAHangingTransactionFoundByDescribeProducers();
    }

    /**
     * {@code kafka-transactions.sh abort --topic T --partition P --start-offset O}: the admin client finds the
     * producer whose transaction started at O on the partition (DescribeProducers) and aborts it there
     * (WriteTxnMarkers); the transaction ends aborted and its producer is fenced.
     */
    private void kafkaTransactionsAbortEndsAHangingTransactionFoundByDescribeProducers() throws Exception {
        client.admin().createTopic("k-hang", 1);
        java.util.Properties settings = new java.util.Properties();
        settings.put("bootstrap.servers", node.kafkaAddress());
        settings.put("transactional.id", "kafka-hanging");
        var partition = new org.apache.kafka.common.TopicPartition("k-hang", 0);
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(settings,
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer());
             var admin = kafkaAdmin()) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("k-hang", 0, null,
                    "hanging".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
            long producerId = admin.describeTransactions(List.of("kafka-hanging")).description("kafka-hanging")
                    .get(30, TimeUnit.SECONDS).producerId();
            var hanging = admin.describeProducers(List.of(partition)).partitionResult(partition)
                    .get(30, TimeUnit.SECONDS).activeProducers().stream().filter(p -> p.producerId() == producerId)
                    .findFirst().orElseThrow();
            assertThat(hanging.currentTransactionStartOffset()).hasValue(0);

            admin.abortTransaction(new org.apache.kafka.clients.admin.AbortTransactionSpec(partition, producerId,
                    (short) hanging.producerEpoch(), hanging.coordinatorEpoch().orElse(-1))).all()
                    .get(30, TimeUnit.SECONDS);

            assertThat(admin.describeTransactions(List.of("kafka-hanging")).description("kafka-hanging")
                    .get(30, TimeUnit.SECONDS).state()).isEqualTo(org.apache.kafka.clients.admin.TransactionState
                    .COMPLETE_ABORT);
            assertThat(admin.describeProducers(List.of(partition)).partitionResult(partition).get(30, TimeUnit.SECONDS)
                    .activeProducers()).filteredOn(p -> p.producerId() == producerId).singleElement()
                    .satisfies(p -> assertThat(p.currentTransactionStartOffset()).isEmpty());
            assertThatThrownBy(producer::commitTransaction).as("its producer fenced")
                    .hasStackTraceContaining("Fenced");
        }
        assertThat(kafkaRead(List.of("k-hang"), "read_committed", 0)).as("nothing of it committed").isEmpty();
    }

    /** What {@code kafka-transactions.sh list} and {@code describe} show of an id whose transaction is open. */
    private void kafkaAdminSeesAnOpenTransaction(String id) throws Exception {
        try (var admin = kafkaAdmin()) {
            var listed = admin.listTransactions(new org.apache.kafka.clients.admin.ListTransactionsOptions()
                    .filterStates(List.of(org.apache.kafka.clients.admin.TransactionState.ONGOING))
                    .filterOnDuration(0)).all().get(30, TimeUnit.SECONDS);
            assertThat(listed).as("open transactions, each listed once")
                    .filteredOn(l -> l.transactionalId().equals(id)).singleElement().satisfies(l -> {
                assertThat(l.transactionalId()).isEqualTo(id);
                assertThat(l.state()).isEqualTo(org.apache.kafka.clients.admin.TransactionState.ONGOING);
            });
            var described = admin.describeTransactions(List.of(id)).description(id).get(30, TimeUnit.SECONDS);
            assertThat(described.state()).isEqualTo(org.apache.kafka.clients.admin.TransactionState.ONGOING);
            assertThat(described.producerId()).isEqualTo(listed.stream().filter(l -> l.transactionalId().equals(id))
                    .findFirst().orElseThrow().producerId());
            assertThat(described.transactionStartTimeMs()).isPresent();
            assertThat(described.transactionStartTimeMs().getAsLong())
                    .isBetween(System.currentTimeMillis() - 60_000, System.currentTimeMillis());
            assertThat(described.transactionTimeoutMs()).as("the producer's transaction.timeout.ms").isEqualTo(60_000);
            assertThat(described.producerEpoch()).isNotNegative();
            assertThat(described.topicPartitions()).containsExactlyInAnyOrder(
                    new org.apache.kafka.common.TopicPartition("k-a", 0), new org.apache.kafka.common.TopicPartition("k-a", 1),
                    new org.apache.kafka.common.TopicPartition("k-b", 0), new org.apache.kafka.common.TopicPartition("k-b", 1));
            // kafka-transactions.sh describe-producers (and find-hanging, which starts from it)
            // Partition 0 of two topics in one request (find-hanging asks in batches): each answered as itself.
            var partitions = List.of(new org.apache.kafka.common.TopicPartition("k-a", 0),
                    new org.apache.kafka.common.TopicPartition("k-b", 0));
            var result = admin.describeProducers(partitions);
            for (var partition : partitions) {
                var producers = result.partitionResult(partition).get(30, TimeUnit.SECONDS).activeProducers();
                assertThat(producers).as("on %s, the producer with where its open transaction started there", partition)
                        .filteredOn(p -> p.producerId() == described.producerId()).singleElement().satisfies(p -> {
                    assertThat(p.producerEpoch()).isEqualTo(described.producerEpoch());
                    assertThat(p.lastSequence()).isNotNegative();
                    assertThat(p.currentTransactionStartOffset()).isPresent();
                    assertThat(p.currentTransactionStartOffset().getAsLong())
                            .as("after the aborted transaction's records").isPositive()
                            .isLessThanOrEqualTo(client.admin().listOffsets(partition.topic(), 0,
                                    io.strata.client.OffsetQuery.latest()).offset());
                });
            }
        }
    }

    /** The same once it committed, and an id no producer was given. */
    private void kafkaAdminSeesAnEndedTransaction(String id) throws Exception {
        try (var admin = kafkaAdmin()) {
            assertThat(admin.listTransactions().all().get(30, TimeUnit.SECONDS))
                    .filteredOn(l -> l.transactionalId().equals(id)).singleElement()
                    .satisfies(l -> assertThat(l.state())
                            .isEqualTo(org.apache.kafka.clients.admin.TransactionState.COMPLETE_COMMIT));
            assertThat(admin.listTransactions(new org.apache.kafka.clients.admin.ListTransactionsOptions()
                    .filterStates(List.of(org.apache.kafka.clients.admin.TransactionState.ONGOING))).all()
                    .get(30, TimeUnit.SECONDS)).as("not among the open ones").noneMatch(l -> l.transactionalId().equals(id));
            var described = admin.describeTransactions(List.of(id)).description(id).get(30, TimeUnit.SECONDS);
            assertThat(described.state()).isEqualTo(org.apache.kafka.clients.admin.TransactionState.COMPLETE_COMMIT);
            assertThat(described.topicPartitions()).isEmpty();
            var partition = new org.apache.kafka.common.TopicPartition("k-a", 0);
            assertThat(admin.describeProducers(List.of(partition)).partitionResult(partition).get(30, TimeUnit.SECONDS)
                    .activeProducers()).as("the producer, with no transaction open on the partition")
                    .filteredOn(p -> p.producerId() == described.producerId()).singleElement()
                    .satisfies(p -> assertThat(p.currentTransactionStartOffset()).isEmpty());
            assertThat(described.transactionStartTimeMs()).isEmpty();
            assertThatThrownBy(() -> admin.describeTransactions(List.of("never-used")).description("never-used")
                    .get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(
                    org.apache.kafka.common.errors.TransactionalIdNotFoundException.class);
        }
    }

    private org.apache.kafka.clients.admin.Admin kafkaAdmin() {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", node.kafkaAddress());
        return org.apache.kafka.clients.admin.Admin.create(p);
    }

    /**
     * Kafka's consume-transform-produce: a group member's positions go with the output in one transaction
     * (sendOffsetsToTransaction with the consumer's group metadata), and become the group's committed offsets when
     * it commits, never before.
     */
    private void kafkaConsumeTransformProduceCommitsTheGroupsOffsetsWithItsOutput() throws Exception {
        java.util.Properties c = new java.util.Properties();
        c.put("bootstrap.servers", node.kafkaAddress());
        c.put("group.id", "k-eos");
        c.put("enable.auto.commit", "false");
        c.put("isolation.level", "read_committed");
        c.put("auto.offset.reset", "earliest");
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", node.kafkaAddress());
        p.put("transactional.id", "kafka-eos");
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(c,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer());
             var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(p,
                     new org.apache.kafka.common.serialization.ByteArraySerializer(),
                     new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.initTransactions();
            consumer.subscribe(List.of("k-a"));
            Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> next =
                    new HashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int read = 0;
            while (read < 12 && System.nanoTime() < deadline) {
                for (var r : consumer.poll(Duration.ofMillis(500))) {
                    read++;
                    next.put(new org.apache.kafka.common.TopicPartition(r.topic(), r.partition()),
                            new org.apache.kafka.clients.consumer.OffsetAndMetadata(r.offset() + 1));
                }
            }
            assertThat(read).as("the committed records of k-a").isEqualTo(12);
            producer.beginTransaction();
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("k-b", 0, null,
                    "derived".getBytes(StandardCharsets.UTF_8)));
            producer.sendOffsetsToTransaction(next, consumer.groupMetadata());
            assertThat(client.groups().describe("k-eos").partitions()).as("nothing committed before the commit")
                    .allMatch(l -> l.committed() < 0);
            producer.commitTransaction();
            assertThat(client.groups().describe("k-eos").partitions()).filteredOn(l -> l.topic().equals("k-a"))
                    .allSatisfy(l -> assertThat(l.committed()).isEqualTo(next.get(
                            new org.apache.kafka.common.TopicPartition("k-a", l.partition())).offset()));
        }
    }

    /** The values a Kafka consumer reads from the topics' starts, until {@code expected} came or 3 s of nothing. */
    private List<String> kafkaRead(List<String> topics, String isolation, int expected) {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", node.kafkaAddress());
        p.put("isolation.level", isolation);
        List<String> values = new ArrayList<>();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(p,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            List<org.apache.kafka.common.TopicPartition> partitions = new ArrayList<>();
            topics.forEach(t -> consumer.partitionsFor(t).forEach(info ->
                    partitions.add(new org.apache.kafka.common.TopicPartition(t, info.partition()))));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long quietSince = System.nanoTime();
            while (values.size() < expected || System.nanoTime() - quietSince < TimeUnit.SECONDS.toNanos(1)) {
                var got = consumer.poll(Duration.ofMillis(200));
                got.forEach(r -> values.add(new String(r.value(), StandardCharsets.UTF_8)));
                if (!got.isEmpty()) {
                    quietSince = System.nanoTime();
                } else if (System.nanoTime() - quietSince > TimeUnit.SECONDS.toNanos(3)) {
                    break;
                }
            }
        }
        return values;
    }

    /**
     * Kafka Streams under {@code exactly_once_v2}: a count by key kept in a state store whose changelog is a
     * key-compacted topic the application creates and writes in its transactions. A second instance with no
     * local state restores the counts from that changelog and carries them on: every count is exact. (This
     * node has no compaction role: cleanings of such topics are {@code TransactionalCompactionTest}'s.)
     */
    @Test
    @org.junit.jupiter.api.Timeout(300)
    void kafkaStreamsExactlyOnceCountsAreRestoredByANewInstanceFromTheCompactedChangelogItWroteInTransactions()
            throws Exception {
        client.admin().createTopic("words", 2);
        client.admin().createTopic("word-counts", 2);
        kafkaWords(600);
        Path state = Files.createTempDirectory(work, "streams");
        try (var first = wordCount(state.resolve("first"))) {
            Map<String, Long> counts = Map.of("w0", 100L, "w1", 100L, "w2", 100L, "w3", 100L, "w4", 100L, "w5", 100L);
            assertThat(latestCounts(counts)).as("the counts, read committed").isEqualTo(counts);
            first.close(org.apache.kafka.streams.CloseOptions.groupMembershipOperation(
                    org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(Duration.ofSeconds(30)));
        }
        var changelog = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "wc-counts-changelog");
        try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", node.kafkaAddress()))) {
            assertThat(admin.describeConfigs(List.of(changelog)).all().get(30, TimeUnit.SECONDS).get(changelog)
                    .get("cleanup.policy").value()).as("the changelog Streams created").isEqualTo("compact");
            // Committed with the counts: the next instance reads on from there, so only the changelog can give
            // it the counts so far (reading "words" again from the start would reach 150 too).
            assertThat(admin.listConsumerGroupOffsets("wc").partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
                    .values().stream().mapToLong(org.apache.kafka.clients.consumer.OffsetAndMetadata::offset).sum())
                    .as("the group's positions on words").isEqualTo(600);
        }
        kafkaWords(300);
        var second = wordCount(state.resolve("second"));
        try {
            Map<String, Long> counts = Map.of("w0", 150L, "w1", 150L, "w2", 150L, "w3", 150L, "w4", 150L, "w5", 150L);
            assertThat(latestCounts(counts)).as("restored from the changelog and counted on").isEqualTo(counts);
        } finally {
            second.close(Duration.ofSeconds(30));
        }
    }

    /** Writes {@code n} words w0..w5 in turn to "words", keyed by themselves, over the Kafka port. */
    private void kafkaWords(int n) throws Exception {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", node.kafkaAddress());
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(p,
                new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.StringSerializer())) {
            for (int i = 0; i < n; i++) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("words", "w" + i % 6, "w" + i % 6));
            }
        }
    }

    /** A started word count of "words" into "word-counts", exactly once, its state under {@code stateDir}. */
    private org.apache.kafka.streams.KafkaStreams wordCount(Path stateDir) {
        java.util.Properties s = new java.util.Properties();
        s.put("application.id", "wc");
        s.put("bootstrap.servers", node.kafkaAddress());
        s.put("processing.guarantee", "exactly_once_v2");
        s.put("replication.factor", 1);
        s.put("state.dir", stateDir.toString());
        s.put("commit.interval.ms", 200);
        var serde = org.apache.kafka.common.serialization.Serdes.String();
        var builder = new org.apache.kafka.streams.StreamsBuilder();
        builder.stream("words", org.apache.kafka.streams.kstream.Consumed.with(serde, serde)).groupByKey()
                .count(org.apache.kafka.streams.kstream.Materialized.as("counts")).toStream()
                .to("word-counts", org.apache.kafka.streams.kstream.Produced.with(serde,
                        org.apache.kafka.common.serialization.Serdes.Long()));
        var streams = new org.apache.kafka.streams.KafkaStreams(builder.build(), s);
        streams.start();
        return streams;
    }

    /**
     * The latest count of each word on "word-counts", read committed, once they reach {@code expected} and stay
     * there for two seconds (a count past it would show), or after a minute: then what was read, for the
     * assertion to show.
     */
    private Map<String, Long> latestCounts(Map<String, Long> expected) {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", node.kafkaAddress());
        p.put("isolation.level", "read_committed");
        Map<String, Long> latest = new java.util.TreeMap<>();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, Long>(p,
                new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.LongDeserializer())) {
            List<org.apache.kafka.common.TopicPartition> partitions = List.of(
                    new org.apache.kafka.common.TopicPartition("word-counts", 0),
                    new org.apache.kafka.common.TopicPartition("word-counts", 1));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (!latest.equals(expected) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> latest.put(r.key(), r.value()));
            }
            long settled = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (latest.equals(expected) && System.nanoTime() < settled) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> latest.put(r.key(), r.value()));
            }
        }
        return latest;
    }

    /**
     * The exactly-once pipeline of docs/transactions.md ({@link ExactlyOncePipelineMain}), two instances in a
     * group, SIGKILLed in turn every few seconds and started again: its output holds each input record exactly
     * once for read-committed readers.
     */
    @Test
    void anExactlyOncePipelineKilledRepeatedlyWritesEachInputRecordOnce() throws Exception {
        client.admin().createTopic("eos-in", 4);
        client.admin().createTopic("eos-out", 4);
        int records = 3_000;
        Producer input = client.producer();
        List<java.util.concurrent.CompletableFuture<?>> sends = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            sends.add(input.send("eos-in", null, ("k" + i).getBytes(StandardCharsets.UTF_8),
                    ("v" + i).getBytes(StandardCharsets.UTF_8)));
        }
        for (var s : sends) {
            s.get(60, TimeUnit.SECONDS);
        }
        input.close();
        io.strata.launcher.ManagedProcess[] pipelines = new io.strata.launcher.ManagedProcess[2];
        int kills = 0;
        try {
            for (int i = 0; i < 2; i++) {
                pipelines[i] = pipeline(i, 0);
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(18);
            while (System.nanoTime() < until) {
                Thread.sleep(3_000);
                int victim = kills % 2;
                pipelines[victim].kill(); // SIGKILL, mid-transaction or between two
                pipelines[victim] = pipeline(victim, ++kills);
            }
            await(() -> distinctOutput() >= records, Duration.ofSeconds(120), "every input record in the output");
        } finally {
            for (io.strata.launcher.ManagedProcess p : pipelines) {
                if (p != null) {
                    p.kill();
                }
            }
        }
        List<String> out = values(readAll("eos-out", true));
        java.util.Map<String, Long> copies = out.stream().collect(java.util.stream.Collectors.groupingBy(
                v -> v.substring(0, v.indexOf('@')), java.util.stream.Collectors.counting()));
        assertThat(copies).as("each of the %d input records, with %d kills", records, kills).hasSize(records);
        assertThat(copies.values()).as("exactly once").allMatch(n -> n == 1);
        assertThat(kills).isPositive();
    }

    private io.strata.launcher.ManagedProcess pipeline(int instance, int run) {
        return io.strata.launcher.ManagedProcess.start("pipeline-" + instance + "-" + run, List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-cp",
                System.getProperty("java.class.path"), ExactlyOncePipelineMain.class.getName(), node.address(),
                "eos-in", "eos-out", "eos", "eos-" + instance), Map.of(), work.resolve("pipelines"));
    }

    /** How many distinct input records the pipeline's committed output holds now. */
    private long distinctOutput() {
        return values(readAll("eos-out", true)).stream().map(v -> v.substring(0, v.indexOf('@'))).distinct().count();
    }

    @Test
    void aNewProducerOfTheTransactionalIdFencesTheOldOneAndAbortsWhatItLeftOpen() {
        client.admin().createTopic("fenced", 1);
        Producer zombie = client.transactionalProducer("zombie");
        zombie.beginTransaction();
        zombie.send("fenced", 0, null, "old".getBytes(StandardCharsets.UTF_8));
        zombie.flush();
        Producer successor = client.transactionalProducer("zombie");
        // Refused by name (io.strata.api.ErrorReason): in the commit call's status, and in a record's answer.
        assertThatThrownBy(zombie::commitTransaction).isInstanceOfSatisfying(StrataException.class, e -> {
            assertThat(e.code()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION);
            assertThat(e.getMessage()).contains("producer fenced");
            assertThat(e.reason()).isEqualTo(io.strata.api.ErrorReason.PRODUCER_FENCED);
        });
        java.util.concurrent.CompletableFuture<?> late = zombie.send("fenced", 0, null,
                "late".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(late::join).cause().isInstanceOfSatisfying(StrataException.class, e -> {
            assertThat(e.code()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION);
            // Fenced where the node checks the transaction first, or found over where the block's commit does.
            assertThat(e.reason()).isIn(io.strata.api.ErrorReason.PRODUCER_FENCED,
                    io.strata.api.ErrorReason.TRANSACTION_NOT_OPEN);
        });
        successor.beginTransaction();
        successor.send("fenced", 0, null, "new".getBytes(StandardCharsets.UTF_8));
        successor.commitTransaction();
        assertThat(values(readAll("fenced", true))).containsExactly("new");
        zombie.close();
        successor.close();
    }

    @Test
    void halfMessagesWhoseProducerIsGoneSurviveANodeCrashAndAreDecidedOnceByCheckBackToAnotherProducerOfTheGroup()
            throws Exception {
        client.admin().createTopic("orders", 2);
        // The producer sends its half messages, prints their ids and is gone before deciding any.
        CliRun.Outcome sent = strata("ok-1\nok-2\nno-3\nno-4\nmaybe-5\n", "produce", "orders", "--half-group", "shop");
        assertThat(sent.exitCode()).as(sent.err()).isZero();
        List<String> ids = sent.out().lines().toList();
        assertThat(ids).hasSize(5).allMatch(id -> id.matches("h-\\d+-[01]-\\d+"));
        assertThat(readAll("orders", false)).as("a half message is seen by no consumer, read uncommitted included")
                .isEmpty();

        node.kill(); // SIGKILL: the half messages are stored, and their states in etcd
        node.start();

        Map<String, Integer> asked = new java.util.concurrent.ConcurrentHashMap<>();
        try (io.strata.client.HalfProducer other = client.halfProducer("shop", check -> {
            String value = new String(check.value(), StandardCharsets.UTF_8);
            asked.merge(value, 1, Integer::sum);
            return value.startsWith("ok") ? io.strata.client.CheckBackListener.Decision.COMMIT
                    : value.startsWith("no") ? io.strata.client.CheckBackListener.Decision.ROLLBACK
                    : io.strata.client.CheckBackListener.Decision.UNKNOWN;
        })) {
            // Decided and decided only once: an "unknown" one is rolled back after its 8 checks.
            await(() -> client.transactions().listHalf("orders").stream()
                            .allMatch(h -> h.status().equals("DELIVERED") || h.status().equals("DROPPED")),
                    Duration.ofSeconds(60), "every half message delivered or dropped");
            Map<String, String> decidedBy = new HashMap<>();
            client.transactions().listHalf("orders").forEach(h -> decidedBy.put(h.id(), h.status() + " by "
                    + h.decidedBy()));
            assertThat(decidedBy).containsEntry(ids.get(0), "DELIVERED by check-back")
                    .containsEntry(ids.get(1), "DELIVERED by check-back")
                    .containsEntry(ids.get(2), "DROPPED by check-back").containsEntry(ids.get(3), "DROPPED by check-back")
                    .containsEntry(ids.get(4), "DROPPED by checks exhausted");
            assertThat(asked.get("maybe-5")).as("asked at each check until the last").isBetween(6, 8);

            // The producer that is still here decides its own by id, once.
            String yes = other.send("orders", 1, null, "direct-yes".getBytes(StandardCharsets.UTF_8), List.of())
                    .get(30, TimeUnit.SECONDS);
            String no = other.send("orders", 1, null, "direct-no".getBytes(StandardCharsets.UTF_8), List.of())
                    .get(30, TimeUnit.SECONDS);
            assertThat(other.commit(yes).status()).isEqualTo("COMMITTED");
            assertThat(other.rollback(no).status()).isEqualTo("ROLLED_BACK");
            assertThat(other.commit(yes).status()).as("the same decision again stands").isIn("COMMITTED", "DELIVERED");
            assertThatThrownBy(() -> other.commit(no)).isInstanceOf(StrataException.class)
                    .hasMessageContaining("already rolled back");
            assertThatThrownBy(() -> other.commit("h-999999-0-0")).isInstanceOf(StrataException.class)
                    .hasMessageContaining("NOT_FOUND");
            await(() -> client.transactions().listHalf("orders").stream().filter(h -> h.id().equals(yes))
                    .allMatch(h -> h.status().equals("DELIVERED")), Duration.ofSeconds(30), "the commit delivered");
        }
        for (boolean committed : new boolean[] {true, false}) {
            assertThat(values(readAll("orders", committed))).as("each committed half message once")
                    .containsExactlyInAnyOrder("ok-1", "ok-2", "direct-yes");
        }
        CliRun.Outcome listed = strata("", "transactions", "half", "list", "--topic", "orders");
        assertThat(listed.out()).contains("PRODUCER-GROUP", ids.get(4), "checks exhausted");
    }

    @Test
    void aProducerKilledMidTransactionIsAbortedWithinItsTimeoutAndTheLastStableOffsetMovesOn() throws Exception {
        client.admin().createTopic("killed", 1);
        Process producer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), StrataCli.class.getName(), "--server",
                node.address(), "produce", "killed", "--transactional-id", "doomed", "--transaction-timeout", "3s")
                .redirectErrorStream(true).redirectOutput(work.resolve("doomed.log").toFile()).start();
        try {
            OutputStream stdin = producer.getOutputStream();
            stdin.write("held\n".getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            await(() -> client.admin().listOffsets("killed", 0, io.strata.client.OffsetQuery.latest()).offset() == 1,
                    Duration.ofSeconds(30), "the transaction's record stored");
            assertThat(client.admin().listOffsets("killed", 0, io.strata.client.OffsetQuery.latest(), true).offset())
                    .as("held back at the open transaction's start").isZero();
        } finally {
            producer.destroyForcibly(); // SIGKILL: nothing of it ends the transaction
            producer.waitFor(10, TimeUnit.SECONDS);
        }
        // Its 3 s timeout, and the nodes' pass that finds it (every 2 s).
        await(() -> client.admin().listOffsets("killed", 0, io.strata.client.OffsetQuery.latest(), true).offset() == 1,
                Duration.ofSeconds(20), "the last stable offset moving on");
        assertThat(client.transactions().describe("doomed").lastOutcome()).isEqualTo("ABORTED");
        assertThat(readAll("killed", true)).isEmpty();
        assertThat(values(readAll("killed", false))).containsExactly("held");
    }
}
