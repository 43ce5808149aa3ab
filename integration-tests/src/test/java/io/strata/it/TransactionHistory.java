package io.strata.it;

import io.strata.client.Consumer;
import io.strata.client.ConsumerConfig;
import io.strata.client.ConsumerRecord;
import io.strata.client.OffsetQuery;
import io.strata.client.StrataClient;
import io.strata.client.StrataException;
import io.strata.launcher.ManagedProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The history checker's transactions (docs/transactions.md): a {@link TransactionalWriterMain} process writes
 * transactions over three topics and twenty partitions, and is SIGKILLed every few seconds, at whatever step it is
 * (sending, committing, aborting, between two), and started again, while the cluster suffers the checker's faults.
 * At the end, what read-committed consumers are given is checked against what the writers were told: each
 * transaction whole or not at all, every one committed there, none aborted, no record twice; and every partition's
 * last stable offset at its end once the last transaction's timeout has passed.
 */
final class TransactionHistory implements AutoCloseable {
    static final String TRANSACTIONAL_ID = "history-txn";
    /** Twenty partitions over three topics. */
    static final Map<String, Integer> TOPICS = new LinkedHashMap<>(Map.of("txn-a", 8, "txn-b", 7, "txn-c", 5));
    private static final int PARTITIONS = TOPICS.values().stream().mapToInt(Integer::intValue).sum();
    /** Committed transactions a run has at least, or it tested too little. */
    static final int MIN_COMMITTED = 20;

    private final Path work;
    private String servers;
    private final Path file;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Random random = new Random(31);
    private volatile ManagedProcess writer;
    private Thread killer;
    private int generation;
    private int kills;

    TransactionHistory(Path work) {
        this.work = work;
        this.file = work.resolve("transactions.history");
    }

    void createTopics(StrataCluster cluster, StrataProcess node) {
        TOPICS.forEach((topic, partitions) -> cluster.createTopic(node, topic, partitions));
    }

    /** Starts the writer on these nodes, and the thread that kills it every 1.5 to 4 s and starts its successor. */
    void start(List<StrataProcess> nodes) {
        servers = String.join(",", nodes.stream().map(StrataProcess::address).toList());
        writer = launch();
        killer = new Thread(() -> {
            for (int round = 1; !stop.get(); round++) {
                try {
                    if (round % 5 == 0) {
                        Thread.sleep(200 + random.nextInt(1_800)); // while it starts: InitTransactions, fencing
                    } else {
                        // From its first commit on: a writer's JVM takes seconds to start on a small, busy
                        // machine, and its first transactions as long again under the checker's faults; one killed
                        // before it committed any would test nothing but its start.
                        awaitFirstCommit(generation - 1, 20_000);
                        Thread.sleep(1_500 + random.nextInt(2_500));
                    }
                } catch (InterruptedException e) {
                    return;
                }
                if (!stop.get()) {
                    writer.kill(); // SIGKILL, at whatever step it is
                    kills++;
                    writer = launch();
                }
            }
        }, "transaction-writer-killer");
        killer.start();
    }

    /** Waits until the writer of {@code generation} has committed a transaction, or {@code timeoutMs} passed. */
    private void awaitFirstCommit(int generation, long timeoutMs) throws InterruptedException {
        String prefix = "committed g" + generation + "t";
        awaitHistory(timeoutMs, lines -> lines.stream().anyMatch(l -> l.startsWith(prefix)));
    }

    /** Waits until {@code done} holds for the history's lines, the kills stop, or {@code timeoutMs} passed. */
    private void awaitHistory(long timeoutMs, java.util.function.Predicate<List<String>> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (!stop.get() && System.nanoTime() < deadline) {
            try {
                if (Files.exists(file) && done.test(Files.readAllLines(file, StandardCharsets.UTF_8))) {
                    return;
                }
            } catch (IOException e) {
                // being written: read again
            }
            Thread.sleep(50);
        }
    }

    private long committed() {
        try {
            return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                    .filter(l -> l.startsWith("committed ")).count() : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private ManagedProcess launch() {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx192m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                TransactionalWriterMain.class.getName(), servers, file.toString(), TRANSACTIONAL_ID,
                Integer.toString(generation++)));
        TOPICS.forEach((topic, partitions) -> command.add(topic + ":" + partitions));
        return ManagedProcess.start("txn-writer-" + generation, command, Map.of(), work.resolve("txn-writers"));
    }

    /**
     * Stops the kills and kills the last writer (its open transaction is the cluster's to abort). On a slow machine
     * the writers may not have committed {@link #MIN_COMMITTED} transactions between the kills and the faults: the
     * last one then goes on, unharmed, until they have (at most a minute: transactions that never commit fail the
     * check).
     */
    void stop() throws InterruptedException {
        stop.set(true);
        if (killer == null) {
            return;
        }
        killer.interrupt();
        killer.join(10_000);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (committed() < MIN_COMMITTED && writer.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        writer.kill();
        kills++;
    }

    @Override
    public void close() {
        stop.set(true);
        ManagedProcess w = writer;
        if (w != null && w.isAlive()) {
            w.kill();
        }
    }

    /** What the writers were told, and what consumers are given: the violations found, and a summary. */
    record Outcome(List<String> violations, String summary) {
    }

    Outcome check(StrataClient client) throws IOException, InterruptedException {
        List<String> violations = new ArrayList<>();
        // The last writer's transaction times out (5 s) and a node's pass (every 2 s) aborts it: then every
        // partition's last stable offset is its end.
        long until = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        List<String> held = stalled(client);
        while (!held.isEmpty() && System.nanoTime() < until) {
            Thread.sleep(500);
            held = stalled(client);
        }
        if (!held.isEmpty()) {
            violations.add("last stable offsets held back 40 s after the last writer was killed: " + held);
        }
        Set<String> told = new HashSet<>();
        Set<String> committed = new HashSet<>();
        Set<String> aborted = new HashSet<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] words = line.split(" ", 3);
            if (words.length < 2) {
                continue; // a line cut short by a kill
            }
            told.add(words[1]);
            if (words[0].equals("committed")) {
                committed.add(words[1]);
            } else if (words[0].equals("aborted")) {
                aborted.add(words[1]);
            }
        }
        Map<String, Integer> seenCommitted = read(client, true, violations);
        Map<String, Integer> seenAll = read(client, false, violations);
        seenCommitted.forEach((txn, count) -> {
            if (count != PARTITIONS) {
                violations.add("transaction " + txn + " is seen in part by read-committed consumers: " + count + " of "
                        + PARTITIONS + " records");
            }
            if (aborted.contains(txn)) {
                violations.add("transaction " + txn + " was aborted, yet read-committed consumers see it");
            }
            if (!told.contains(txn)) {
                violations.add("read-committed consumers see " + txn + ", which no writer began");
            }
        });
        for (String txn : committed) {
            if (seenCommitted.getOrDefault(txn, 0) != PARTITIONS) {
                violations.add("transaction " + txn + " was committed, yet read-committed consumers see "
                        + seenCommitted.getOrDefault(txn, 0) + " of its " + PARTITIONS + " records");
            }
            if (seenAll.getOrDefault(txn, 0) != PARTITIONS) {
                violations.add("transaction " + txn + " was committed, yet read-uncommitted consumers see "
                        + seenAll.getOrDefault(txn, 0) + " of its records");
            }
        }
        long unknown = told.stream().filter(t -> !committed.contains(t) && !aborted.contains(t)).count();
        long unknownVisible = told.stream().filter(t -> !committed.contains(t) && !aborted.contains(t)
                && seenCommitted.containsKey(t)).count();
        String summary = String.format("transactions=%d committed=%d aborted=%d outcome_unknown=%d "
                        + "(visible %d) writer_kills=%d read_committed_transactions=%d", told.size(), committed.size(),
                aborted.size(), unknown, unknownVisible, kills, seenCommitted.size());
        if (committed.size() < MIN_COMMITTED) {
            violations.add("only " + committed.size() + " transactions were committed: " + summary);
        }
        return new Outcome(violations, summary);
    }

    /** The partitions whose last stable offset is short of their end. */
    private static List<String> stalled(StrataClient client) {
        List<String> held = new ArrayList<>();
        TOPICS.forEach((topic, partitions) -> {
            for (int p = 0; p < partitions; p++) {
                try {
                    long end = client.admin().listOffsets(topic, p, OffsetQuery.latest()).offset();
                    long stable = client.admin().listOffsets(topic, p, OffsetQuery.latest(), true).offset();
                    if (stable < end) {
                        held.add(topic + "/" + p + " at " + stable + " of " + end);
                    }
                } catch (StrataException e) {
                    held.add(topic + "/" + p + ": " + e.getMessage());
                }
            }
        });
        return held;
    }

    /** Per transaction, how many of its records a reader of every partition is given; a record twice is a violation. */
    private static Map<String, Integer> read(StrataClient client, boolean committed, List<String> violations) {
        Map<String, Integer> perTransaction = new HashMap<>();
        Set<String> values = new HashSet<>();
        for (Map.Entry<String, Integer> topic : TOPICS.entrySet()) {
            try (Consumer consumer = client.consumer(topic.getKey(),
                    ConsumerConfig.DEFAULT.withReadCommitted(committed))) {
                consumer.assignAll();
                consumer.seekToBeginning();
                for (List<ConsumerRecord> got = consumer.poll(Duration.ofSeconds(3)); !got.isEmpty();
                     got = consumer.poll(Duration.ofSeconds(2))) {
                    for (ConsumerRecord r : got) {
                        String value = new String(r.value(), StandardCharsets.UTF_8);
                        String[] parts = value.split("/");
                        if (!values.add(value)) {
                            violations.add((committed ? "read committed" : "read uncommitted") + ": " + value
                                    + " given twice");
                        } else if (parts.length != 3 || !parts[1].equals(topic.getKey())
                                || Integer.parseInt(parts[2]) != r.partition()) {
                            violations.add(value + " stored in " + topic.getKey() + "/" + r.partition());
                        }
                        perTransaction.merge(parts[0], 1, Integer::sum);
                    }
                }
            }
        }
        return perTransaction;
    }
}
