package io.strata.it;

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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transactions against a node on real etcd and S3 (docs/transactions.md), through the Java client and the CLI as
 * users run them: a transaction over three topics and twenty partitions is seen all or nothing by read-committed
 * consumers and whole by read-uncommitted ones; a new producer of a transactional id fences the old one; a producer
 * process killed mid-transaction is aborted within its timeout, and the last stable offset moves on.
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
        node = cluster.start("node-1", "ingest,fetch", Map.of());
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

    private static void await(BooleanSupplier condition, Duration limit, String what) throws InterruptedException {
        io.strata.testkit.Eventually.await(condition, limit, what);
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
    void aNewProducerOfTheTransactionalIdFencesTheOldOneAndAbortsWhatItLeftOpen() {
        client.admin().createTopic("fenced", 1);
        Producer zombie = client.transactionalProducer("zombie");
        zombie.beginTransaction();
        zombie.send("fenced", 0, null, "old".getBytes(StandardCharsets.UTF_8));
        zombie.flush();
        Producer successor = client.transactionalProducer("zombie");
        assertThatThrownBy(zombie::commitTransaction).isInstanceOfSatisfying(StrataException.class, e -> {
            assertThat(e.code()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION);
            assertThat(e.getMessage()).contains("producer fenced");
        });
        successor.beginTransaction();
        successor.send("fenced", 0, null, "new".getBytes(StandardCharsets.UTF_8));
        successor.commitTransaction();
        assertThat(values(readAll("fenced", true))).containsExactly("new");
        zombie.close();
        successor.close();
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
