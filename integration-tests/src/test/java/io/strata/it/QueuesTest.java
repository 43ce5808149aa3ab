package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.cli.StrataCli;
import io.strata.client.Consumer;
import io.strata.client.ConsumerConfig;
import io.strata.client.ConsumerRecord;
import io.strata.client.RecordHeader;
import io.strata.client.ShareConsumer;
import io.strata.client.StrataClient;
import io.strata.client.StrataException;
import io.strata.queues.filter.RecordFilter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Queue semantics across processes, against a real etcd and a real S3 server, on one node shared by the
 * scenarios: server-side filters (tags and expressions over headers) decide on the fetch node, send nothing
 * else, and move readers' positions and their group's offsets past what they leave out; share groups hand each
 * record to one member at a time, and a member killed while holding records loses none of them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QueuesTest {
    @TempDir
    static Path work;
    private StrataCluster cluster;
    private StrataProcess node;
    private StrataClient client;

    @BeforeAll
    void start() {
        cluster = new StrataCluster(work);
        // Short share locks, so that a killed member's records come back within the test.
        node = cluster.start("node-1", "ingest,fetch", Map.of("strata.share.lock-duration", "3s",
                "strata.share.backoff", "100ms,2,400ms", "strata.groups.lag-interval", "1s"));
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

    /** The command line as a user runs it against the node, in this process. */
    private CliRun.Outcome strata(String stdin, String... args) {
        return CliRun.strata(node.address(), stdin, args);
    }

    @Test
    void aGroupReadingOneTagGetsExactlyItsRecordsAndEndsWithoutLag() {
        assertThat(strata("", "topics", "create", "events", "--partitions", "3").exitCode()).isZero();
        StringBuilder a = new StringBuilder();
        StringBuilder b = new StringBuilder();
        List<String> wanted = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            a.append("a-").append(i).append('\n');
            b.append("b-").append(i).append('\n');
            wanted.add("a-" + i);
        }
        // Interleaved, so every partition holds both tags, and records without a tag too.
        assertThat(strata(a.substring(0, a.length() / 2), "produce", "events", "--tag", "a").exitCode()).isZero();
        assertThat(strata(b.toString(), "produce", "events", "--tag", "b", "--header", "region=eu").exitCode()).isZero();
        assertThat(strata("plain-1\nplain-2\n", "produce", "events").exitCode()).isZero();
        assertThat(strata(a.substring(a.length() / 2), "produce", "events", "--tag", "a").exitCode()).isZero();
        assertThat(strata(b.toString(), "produce", "events", "--tag", "b").exitCode()).isZero();

        CliRun.Outcome read = strata("", "consume", "events", "--group", "f", "--tags", "a", "--timeout-ms", "3000");
        assertThat(read.exitCode()).as(read.err()).isZero();
        assertThat(read.out().lines().toList()).containsExactlyInAnyOrderElementsOf(wanted);

        CliRun.Outcome lag = strata("", "groups", "describe", "f");
        assertThat(lag.out()).as("records the filter left out count as read").contains("total lag 0");
        assertThat(lag.out().lines().filter(l -> l.startsWith("events"))).as(lag.out()).hasSize(3)
                .allMatch(row -> row.matches(".* (\\d+) +\\1 +0$"), "committed at the end, lag 0");

        // A share group reading one tag: the others are done for it, and it ends without lag too.
        CliRun.Outcome shared = strata("", "consume", "events", "--share", "fs", "--tags", "a", "--timeout-ms", "3000");
        assertThat(shared.exitCode()).as(shared.err()).isZero();
        assertThat(shared.out().lines().toList()).containsExactlyInAnyOrderElementsOf(wanted);
        assertThat(strata("", "share-groups", "describe", "fs").out()).contains("total lag 0  acquired 0");

        CliRun.Outcome headers = strata("", "consume", "events", "--from-beginning", "--filter", "region = 'eu'",
                "--print-headers", "--timeout-ms", "2000");
        assertThat(headers.out().lines().toList()).hasSize(40).allMatch(l -> l.startsWith("region=eu,tag=b\tb-"));

        CliRun.Outcome bad = strata("", "consume", "events", "--from-beginning", "--filter", "region = 'eu' AND",
                "--timeout-ms", "2000");
        assertThat(bad.exitCode()).isNotZero();
        assertThat(bad.err()).startsWith("filter: expected a header name or a value, found the end at column 18")
                .hasLineCount(1);
    }

    /**
     * A share group is deleted by its operator only while none of its records are held, and a member that reads on
     * afterwards takes the partition up again from its log start; a deleted topic's share states go with it.
     */
    @Test
    void aShareGroupIsDeletedOnlyWhileNothingIsHeldAndADeletedTopicsStatesGoWithIt() throws Exception {
        client.admin().createTopic("chores", 1);
        assertThat(strata("c-1\nc-2\nc-3\n", "produce", "chores").exitCode()).isZero();
        try (ShareConsumer worker = client.consumer("chores").share("crew")) {
            List<io.strata.client.ShareRecord> held = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (held.size() < 3 && System.nanoTime() < deadline) {
                held.addAll(worker.poll(Duration.ofSeconds(1)));
            }
            assertThat(held).hasSize(3);
            CliRun.Outcome refused = strata("", "share-groups", "delete", "crew");
            assertThat(refused.exitCode()).isNotZero();
            assertThat(refused.err()).as(refused.err()).contains("share group crew is in use: its members hold 3 records")
                    .hasLineCount(1);
            held.forEach(worker::accept);
            worker.acknowledge();
        }
        CliRun.Outcome deleted = strata("", "share-groups", "delete", "crew");
        assertThat(deleted.exitCode()).as(deleted.err()).isZero();
        assertThat(deleted.out()).isEqualTo("deleted share group crew (1 partition states)\n");
        assertThat(strata("", "share-groups", "list").out()).doesNotContainPattern("(?m)^crew\\s");
        CliRun.Outcome again = strata("", "consume", "chores", "--share", "crew", "--timeout-ms", "3000");
        assertThat(again.out().lines().toList()).as("a new group's: from the log start")
                .containsExactlyInAnyOrder("c-1", "c-2", "c-3");

        try (ClusterInspector look = cluster.inspector()) {
            long id = look.metadata().getTopic("chores").join().orElseThrow().topicId();
            assertThat(look.metadata().shares().list("crew").join()).extracting(io.strata.metadata.share.ShareStateStore.Named::topicId)
                    .containsExactly(id);
            assertThat(strata("", "topics", "delete", "chores").exitCode()).isZero();
            // The node that exports lag (every second here) forgets deleted topics' states every ten intervals.
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!look.metadata().shares().list("crew").join().isEmpty() && System.nanoTime() < until) {
                Thread.sleep(500);
            }
            assertThat(look.metadata().shares().list("crew").join()).as("the deleted topic's share state").isEmpty();
        }
    }

    /**
     * Delayed records, sent by the Java client and by `strata produce --delay`, reach a plain reader, a group
     * member and a share-group member each once: never before their time, and within a second after it.
     */
    @Test
    void delayedRecordsReachEveryKindOfConsumerNotBeforeTheirTimeAndWithinASecondAfter() throws Exception {
        client.admin().createTopic("later", 2);
        Map<String, Map<String, long[]>> seen = new java.util.concurrent.ConcurrentHashMap<>(); // kind -> value -> {due, at}
        java.util.concurrent.atomic.AtomicBoolean reading = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<Thread> readers = new ArrayList<>();
        for (String kind : List.of("plain", "group", "share")) {
            Map<String, long[]> mine = new java.util.concurrent.ConcurrentHashMap<>();
            seen.put(kind, mine);
            Thread t = new Thread(() -> {
                try (Consumer c = client.consumer("later")) {
                    ShareConsumer share = kind.equals("share") ? c.share("later-workers") : null;
                    if (kind.equals("plain")) {
                        c.assignAll();
                        c.seekToBeginning();
                    } else if (kind.equals("group")) {
                        c.subscribe("later-readers");
                    }
                    while (reading.get()) {
                        if (share != null) {
                            for (io.strata.client.ShareRecord r : share.poll(Duration.ofMillis(200))) {
                                note(mine, r.value(), r.headers());
                                share.accept(r);
                            }
                            share.acknowledge();
                        } else {
                            for (ConsumerRecord r : c.poll(Duration.ofMillis(200))) {
                                note(mine, r.value(), r.headers());
                            }
                        }
                    }
                    if (share != null) {
                        share.close();
                    }
                } catch (RuntimeException e) {
                    mine.put("failed: " + e, new long[] {0, 0});
                }
            }, "later-" + kind);
            t.start();
            readers.add(t);
        }
        Thread.sleep(2_000); // every reader in place (the group member joined)
        List<String> values = new ArrayList<>();
        try (io.strata.client.Producer producer = client.producer()) {
            List<CompletableFuture<io.strata.client.RecordMetadata>> sends = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                String value = "delayed-" + i;
                values.add(value);
                long due = System.currentTimeMillis() + 1_000 + (i % 3) * 1_000L;
                sends.add(producer.sendDelayed("later", null, i % 2 == 0 ? null : ("k" + i).getBytes(StandardCharsets.UTF_8),
                        value.getBytes(StandardCharsets.UTF_8), List.of(), due));
            }
            for (var f : sends) {
                assertThat(f.get(30, TimeUnit.SECONDS).offset()).as("no offset before delivery").isEqualTo(-1);
            }
        }
        CliRun.Outcome cli = strata("cli-1\ncli-2\n", "produce", "later", "--delay", "2s");
        assertThat(cli.exitCode()).as(cli.err()).isZero();
        assertThat(cli.err()).contains("produced 2 delayed records to later (delivered in 2s)");
        values.addAll(List.of("cli-1", "cli-2"));

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (seen.values().stream().anyMatch(m -> m.size() < values.size()) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        reading.set(false);
        for (Thread t : readers) {
            t.join(10_000);
        }
        for (String kind : seen.keySet()) {
            Map<String, long[]> got = seen.get(kind);
            assertThat(got.keySet()).as(kind + " reader: each delayed record once").containsExactlyInAnyOrderElementsOf(values);
            got.forEach((value, t) -> {
                assertThat(t[1]).as(kind + " reader saw " + value + " not before its time").isGreaterThanOrEqualTo(t[0]);
                assertThat(t[1] - t[0]).as(kind + " reader saw " + value + " within a second after").isLessThanOrEqualTo(1_000);
            });
        }
        assertThat(StrataCluster.metric(node, "strata_delay_records_delivered_total")).isGreaterThanOrEqualTo(14);
        seen.forEach((kind, got) -> System.out.printf("delayed records seen by the %s reader: %d, at most %d ms after "
                + "their time%n", kind, got.size(), got.values().stream().mapToLong(t -> t[1] - t[0]).max().orElse(-1)));
    }

    /** When a reader saw a delayed record against its due time (a record seen twice fails the reader's set). */
    private static void note(Map<String, long[]> seen, byte[] value, List<RecordHeader> headers) {
        long at = System.currentTimeMillis();
        long due = headers.stream().filter(h -> h.key().equals("strata.deliver-at"))
                .mapToLong(h -> Long.parseLong(new String(h.value(), StandardCharsets.UTF_8))).findFirst().orElse(-1);
        String v = new String(value, StandardCharsets.UTF_8);
        if (seen.putIfAbsent(v, new long[] {due, at}) != null) {
            seen.put("twice: " + v, new long[] {0, 0});
        }
    }

    /**
     * `strata consume --group G --exec CMD`: a member runs the command per record in order, tries a failing one again
     * after the group's back-off until its deliveries are used up, sends it to the group's dead-letter topic with the
     * same headers a share group's copy has, and goes on; the group ends without lag. Without a dead-letter topic it
     * stops at the record instead, committing nothing past it.
     */
    @Test
    void aConsumerGroupMemberTriesAFailingRecordAgainThenDeadLettersItAndGoesOn() throws Exception {
        client.admin().createTopic("orders", 1);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            lines.append("o-").append(i).append('\n');
        }
        assertThat(strata(lines.toString(), "produce", "orders", "--header", "origin=test").exitCode()).isZero();
        CliRun.Outcome altered = strata("", "groups", "alter", "cg", "--dead-letter-topic", "orders-dlq",
                "--max-delivery-attempts", "3", "--backoff", "100ms,2,400ms");
        assertThat(altered.exitCode()).as(altered.err()).isZero();
        Path log = work.resolve("group-exec.log");
        String command = "v=$(cat); echo \"$v $STRATA_DELIVERY_COUNT\" >> " + log + "; [ \"$v\" != o-4 ] || exit 3";
        CliRun.Outcome run = strata("", "consume", "orders", "--group", "cg", "--exec", command, "--timeout-ms", "3000");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).contains("orders/0@4 failed 3 times (--exec exited with status 3): sent to orders-dlq");
        assertThat(java.nio.file.Files.readAllLines(log)).as("in order, o-4 tried until its deliveries were used up")
                .containsExactly("o-0 1", "o-1 1", "o-2 1", "o-3 1", "o-4 1", "o-4 2", "o-4 3", "o-5 1", "o-6 1",
                        "o-7 1");
        CliRun.Outcome dead = strata("", "consume", "orders-dlq", "--from-beginning", "--print-headers", "--timeout-ms", "2000");
        assertThat(dead.out().lines().toList()).singleElement().satisfies(line -> assertThat(line)
                .startsWith("origin=test,strata.dlq.topic=orders,strata.dlq.partition=0,strata.dlq.offset=4,"
                        + "strata.dlq.group=cg,strata.dlq.delivery-count=3,strata.dlq.reason=delivery-attempts-exhausted,"
                        + "strata.dlq.error=--exec exited with status 3,strata.dlq.timestamp=").endsWith("\to-4"));
        assertThat(strata("", "groups", "describe", "cg").out()).contains("total lag 0");

        CliRun.Outcome stuck = strata("", "consume", "orders", "--group", "cg-no-dlq", "--exec", "[ \"$(cat)\" != o-2 ]",
                "--timeout-ms", "3000");
        assertThat(stuck.exitCode()).isNotZero();
        assertThat(stuck.err()).contains("orders/0@2 failed 5 times (--exec exited with status 1) and group "
                + "cg-no-dlq has no dead-letter topic: stopping here");
        assertThat(client.groups().committed("cg-no-dlq", "orders")).as("nothing committed past the record")
                .containsEntry(0, 2L);
    }

    /**
     * `strata consume --share w` run four times at once, one of them SIGKILLed and another frozen past its lock
     * while they hold records: every record is printed, none twice by the members never stopped (a record the
     * killed one printed but had not answered comes back to them after its lock), and afterwards the group has
     * nothing left to hand out.
     */
    @Test
    void shareGroupMembersPrintEveryRecordOnceAndAKilledMemberLosesNone() throws Exception {
        client.admin().createTopic("work", 4);
        List<String> values = new ArrayList<>();
        List<CompletableFuture<io.strata.client.RecordMetadata>> sends = new ArrayList<>();
        io.strata.client.Producer producer = client.producer();
        for (int i = 0; i < 3000; i++) {
            values.add("w-" + i);
            sends.add(producer.send("work", null, null, ("w-" + i).getBytes(StandardCharsets.UTF_8)));
        }
        for (var s : sends) {
            s.get(30, TimeUnit.SECONDS);
        }
        producer.close();
        List<io.strata.launcher.ManagedProcess> members = new ArrayList<>();
        for (int m = 0; m < 4; m++) {
            members.add(io.strata.launcher.ManagedProcess.start("member-" + m, List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-cp",
                    System.getProperty("java.class.path"), StrataCli.class.getName(), "--server", node.address(),
                    "consume", "work", "--share", "w", "--timeout-ms", "8000"), Map.of(), work.resolve("members")));
        }
        try {
            // The node decides who takes what (a fetch takes up to 500 records): the victim is whichever member is
            // first seen having printed 50, the frozen one whichever other is then first seen holding some.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            io.strata.launcher.ManagedProcess victim = firstHolding(members, null, 50, deadline);
            assertThat(victim).as("a member that printed 50 records").isNotNull();
            victim.kill();
            // Another frozen past its 3 s lock while it holds records, then thawed: what it held went to others.
            io.strata.launcher.ManagedProcess frozen = firstHolding(members, victim, 10, deadline);
            assertThat(frozen).as("another member that took records").isNotNull();
            frozen.pause();
            Thread.sleep(5_000);
            frozen.resume();
            List<io.strata.launcher.ManagedProcess> lived = members.stream().filter(m -> m != victim).toList();
            for (io.strata.launcher.ManagedProcess m : lived) {
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (m.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(m.exitCode()).as(m.tail(20)).hasValue(0);
            }
            List<String> survivors = new ArrayList<>();
            for (io.strata.launcher.ManagedProcess m : lived) {
                if (m != frozen) {
                    survivors.addAll(printed(m));
                }
            }
            assertThat(survivors).as("no record printed twice by the members that were never stopped")
                    .doesNotHaveDuplicates();
            // The frozen member's records that others printed too are ones whose answers came after their lock:
            // refused (not accepted twice), and said so.
            List<String> twice = new ArrayList<>(printed(frozen));
            twice.retainAll(survivors);
            java.util.regex.Matcher refused = java.util.regex.Pattern.compile("(\\d+) records were answered after "
                    + "their lock ran out").matcher(frozen.tail(50));
            long notCounted = refused.find() ? Long.parseLong(refused.group(1)) : 0;
            assertThat((long) twice.size()).as("printed by the frozen member and another: each answered late, "
                    + "its answer refused").isLessThanOrEqualTo(notCounted);
            java.util.Set<String> all = new java.util.HashSet<>(survivors);
            all.addAll(printed(victim));
            all.addAll(printed(frozen));
            assertThat(all).as("every record printed").containsExactlyInAnyOrderElementsOf(values);
        } finally {
            members.forEach(io.strata.launcher.ManagedProcess::close);
        }
        try (var share = client.consumer("work").share("w")) {
            assertThat(share.poll(Duration.ofSeconds(2))).as("everything was accepted: nothing is left").isEmpty();
        }
    }

    /** The first member (other than {@code not}, alive) seen having printed {@code records}, or null by the deadline. */
    private static io.strata.launcher.ManagedProcess firstHolding(List<io.strata.launcher.ManagedProcess> members,
                                                                io.strata.launcher.ManagedProcess not, int records,
                                                                long deadline) throws Exception {
        while (System.nanoTime() < deadline) {
            for (io.strata.launcher.ManagedProcess m : members) {
                if (m != not && m.isAlive() && printed(m).size() >= records) {
                    return m;
                }
            }
            Thread.sleep(20);
        }
        return null;
    }

    /**
     * `strata consume --share --exec CMD --parallel 4` in a group with a dead-letter topic: a command that always
     * fails for one record has it delivered again after the back-off until `--max-delivery-attempts` are used up,
     * then copied once to the dead-letter topic with headers saying where it came from and why, while every other
     * record is run once and accepted; `strata dlq replay` sends the copy back to its source partition.
     */
    @Test
    void aRecordThatAlwaysFailsGoesToTheDeadLetterTopicAfterItsDeliveriesWhileTheRestRunOnce() throws Exception {
        assertThat(strata("", "topics", "create", "tasks", "--partitions", "2").exitCode()).isZero();
        CliRun.Outcome altered = strata("", "groups", "alter", "x", "--dead-letter-topic", "tasks-dlq",
                "--max-delivery-attempts", "3");
        assertThat(altered.exitCode()).as(altered.err()).isZero();
        assertThat(altered.out()).contains("created topic tasks-dlq").contains("max delivery attempts  3\n");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            lines.append("t-").append(i).append('\n');
        }
        assertThat(strata(lines.toString(), "produce", "tasks", "--header", "origin=test").exitCode()).isZero();
        Path log = work.resolve("exec.log");
        String command = "v=$(cat); echo \"$v $STRATA_DELIVERY_COUNT $STRATA_TOPIC\" >> " + log
                + "; [ \"$v\" != t-7 ] || exit 3";
        CliRun.Outcome run = strata("", "consume", "tasks", "--share", "x", "--exec", command, "--parallel", "4",
                "--timeout-ms", "4000");
        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> runs = java.nio.file.Files.readAllLines(log);
        assertThat(runs.stream().filter(l -> l.startsWith("t-7 ")).toList()).as("t-7, delivered until used up")
                .containsExactly("t-7 1 tasks", "t-7 2 tasks", "t-7 3 tasks");
        assertThat(runs.stream().filter(l -> !l.startsWith("t-7 ")).toList()).as("every other record run once")
                .hasSize(19).allMatch(l -> l.endsWith(" 1 tasks")).doesNotHaveDuplicates();
        ConsumerRecord source;
        try (Consumer all = client.consumer("tasks")) {
            all.assignAll();
            all.seekToBeginning();
            source = pollUntil(all, r -> new String(r.value(), StandardCharsets.UTF_8).equals("t-7"));
        }
        CliRun.Outcome dead = strata("", "consume", "tasks-dlq", "--from-beginning", "--print-headers", "--timeout-ms", "3000");
        assertThat(dead.exitCode()).as(dead.err()).isZero();
        assertThat(dead.out().lines().toList()).as("one copy, however often the node wrote it").singleElement()
                .satisfies(line -> assertThat(line).startsWith("origin=test,strata.dlq.topic=tasks,")
                        .contains("strata.dlq.partition=" + source.partition() + ",")
                        .contains("strata.dlq.offset=" + source.offset() + ",")
                        .contains("strata.dlq.group=x,").contains("strata.dlq.delivery-count=3,")
                        .contains("strata.dlq.reason=delivery-attempts-exhausted,")
                        .contains("strata.dlq.error=--exec exited with status 3,").endsWith("\tt-7"));
        try (var share = client.consumer("tasks").share("x")) {
            assertThat(share.poll(Duration.ofSeconds(2))).as("accepted, or archived: nothing is left").isEmpty();
            CliRun.Outcome replay = strata("", "dlq", "replay", "tasks-dlq", "--timeout-ms", "2000");
            assertThat(replay.exitCode()).as(replay.err()).isZero();
            assertThat(replay.out()).startsWith("replayed 1 record(s) from tasks-dlq:\n  tasks  1");
            List<io.strata.client.ShareRecord> again = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (again.isEmpty() && System.nanoTime() < deadline) {
                again.addAll(share.poll(Duration.ofSeconds(1)));
            }
            assertThat(again).as("the copy back at its source, as a new record of the same partition")
                    .singleElement().satisfies(r -> {
                        assertThat(new String(r.value(), StandardCharsets.UTF_8)).isEqualTo("t-7");
                        assertThat(r.partition()).isEqualTo(source.partition());
                        assertThat(r.offset()).isGreaterThan(source.offset());
                        assertThat(r.deliveryCount()).isEqualTo(1);
                        assertThat(r.headers()).extracting(io.strata.client.RecordHeader::key).containsExactly("origin");
                    });
            share.accept(again.get(0));
        }
        assertThat(strata("", "dlq", "replay", "tasks-dlq", "--timeout-ms", "1000").out())
                .as("the replay's group committed what it sent").startsWith("replayed 0 record(s)");
        CliRun.Outcome described = strata("", "share-groups", "describe", "x");
        assertThat(described.exitCode()).as(described.err()).isZero();
        // The records went where the producer's sticky partitioning put them: one partition or both.
        assertThat(described.out()).as(described.out()).containsPattern("^share group x  partitions [12]  total lag 0  acquired 0\n");
        assertThat(described.out().lines().filter(l -> l.startsWith("tasks ")).toList()).hasSizeBetween(1, 2)
                .allSatisfy(l -> assertThat(l).as("lag, acquired, available, dlq-pending 0").matches(
                        "tasks\\s+[01]\\s+(\\d+)\\s+\\1\\s+0\\s+0\\s+0\\s+0\\s+-"));
        assertThat(strata("", "share-groups", "list").out()).containsPattern("(?m)^x\\s+[12]\\s+0\\s+0$");
        assertThat(StrataCluster.metric(node, "strata_share_records_dead_lettered_total")).isGreaterThanOrEqualTo(1);
        assertThat(StrataCluster.metric(node, "strata_share_records_redelivered_total")).as("t-7's 2nd and 3rd")
                .isGreaterThanOrEqualTo(2);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String metrics = "";
        while (!metrics.contains("strata_share_lag{group=\"x\"") && System.nanoTime() < until) {
            Thread.sleep(200);
            metrics = io.strata.launcher.HttpProbe.get(java.net.URI.create("http://" + node.httpAddress()
                    + "/q/metrics")).body();
        }
        assertThat(metrics).as("the share group's lag, exported by this (the only) node").containsPattern(
                "(?m)^strata_share_lag\\{group=\"x\",?\\} 0\\.0$");
    }

    /**
     * A node that runs only the fetch role writes a share group's dead-letter copies through an ingest node's
     * node-to-node port: a rejected record's copy, with the member's reason, arrives once.
     */
    @Test
    void aFetchOnlyNodeWritesDeadLetterCopiesThroughAnIngestNode() throws Exception {
        StrataProcess fetchOnly = cluster.start("fetch-only", "fetch");
        assertThat(strata("", "topics", "create", "jobs", "--partitions", "1").exitCode()).isZero();
        assertThat(strata("", "groups", "alter", "r", "--dead-letter-topic", "jobs-dlq").exitCode()).isZero();
        assertThat(strata("a\nb\nc\n", "produce", "jobs", "--partition", "0").exitCode()).isZero();
        ManagedChannel channel = ManagedChannelBuilder.forTarget(fetchOnly.address()).usePlaintext().build();
        try {
            var share = io.strata.api.v1.ShareServiceGrpc.newBlockingStub(channel);
            List<io.strata.api.v1.SharedRecord> got = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (got.size() < 3 && System.nanoTime() < deadline) {
                got.addAll(share.shareFetch(io.strata.api.v1.ShareFetchRequest.newBuilder().setGroup("r")
                        .setTopic("jobs").setMemberId("m").setMaxWaitMs(1_000).build()).getRecordsList());
            }
            assertThat(got).extracting(io.strata.api.v1.SharedRecord::getOffset).containsExactly(0L, 1L, 2L);
            var answered = share.shareAcknowledge(io.strata.api.v1.ShareAcknowledgeRequest.newBuilder().setGroup("r")
                    .setTopic("jobs").setMemberId("m")
                    .addAcks(io.strata.api.v1.ShareAck.newBuilder().setPartition(0).setFirstOffset(0).setLastOffset(0)
                            .setAnswer(io.strata.api.v1.ShareAnswer.SHARE_ANSWER_ACCEPT))
                    .addAcks(io.strata.api.v1.ShareAck.newBuilder().setPartition(0).setFirstOffset(1).setLastOffset(1)
                            .setAnswer(io.strata.api.v1.ShareAnswer.SHARE_ANSWER_REJECT).setNote("not a job"))
                    .addAcks(io.strata.api.v1.ShareAck.newBuilder().setPartition(0).setFirstOffset(2).setLastOffset(2)
                            .setAnswer(io.strata.api.v1.ShareAnswer.SHARE_ANSWER_ACCEPT)).build());
            assertThat(answered.getResultsList()).allMatch(r -> r.getApplied() == 1);
        } finally {
            channel.shutdownNow();
        }
        try (Consumer dlq = client.consumer("jobs-dlq")) {
            dlq.assignAll();
            dlq.seekToBeginning();
            ConsumerRecord copy = pollUntil(dlq, r -> true);
            assertThat(new String(copy.value(), StandardCharsets.UTF_8)).isEqualTo("b");
            java.util.Map<String, String> headers = new java.util.HashMap<>();
            copy.headers().forEach(h -> headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8)));
            assertThat(headers).containsEntry("strata.dlq.topic", "jobs").containsEntry("strata.dlq.offset", "1")
                    .containsEntry("strata.dlq.reason", "rejected").containsEntry("strata.dlq.error", "not a job")
                    .containsEntry("strata.dlq.delivery-count", "1").containsEntry("strata.dlq.group", "r");
            assertThat(dlq.poll(Duration.ofSeconds(2))).as("one copy").isEmpty();
        } finally {
            fetchOnly.close();
        }
        // The shared client still ranks the stopped node among the fetch nodes for a moment: calls that went to it
        // go to another node (most of these 8 partitions were ranked to one node or the other).
        assertThat(strata("", "topics", "create", "after-fetch-only", "--partitions", "8").exitCode()).isZero();
        try (Consumer consumer = client.consumer("after-fetch-only")) {
            consumer.assignAll();
            consumer.seekToEnd();
            for (int p = 0; p < 8; p++) {
                assertThat(consumer.position(p)).isZero();
            }
        }
    }

    private static ConsumerRecord pollUntil(Consumer consumer, java.util.function.Predicate<ConsumerRecord> wanted) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord r : consumer.poll(Duration.ofMillis(500))) {
                if (wanted.test(r)) {
                    return r;
                }
            }
        }
        throw new AssertionError("no such record within 20 s");
    }

    private static List<String> printed(io.strata.launcher.ManagedProcess member) throws java.io.IOException {
        return java.nio.file.Files.readAllLines(member.log(), StandardCharsets.UTF_8).stream()
                .filter(l -> l.matches("w-\\d+")).toList();
    }

    /**
     * Records with random headers, read back through filters of every form: the node answers exactly the records
     * the same filter passes when evaluated here, and each answer's next offset is past the ones it left out.
     */
    @Test
    void aFilterDeliversExactlyTheRecordsItsInMemoryEvaluationPasses() throws Exception {
        client.admin().createTopic("filtered", 2);
        Random random = new Random(42);
        Map<Integer, TreeMap<Long, Map<String, String>>> stored = new HashMap<>();
        List<CompletableFuture<io.strata.client.RecordMetadata>> sends = new ArrayList<>();
        List<Map<String, String>> sent = new ArrayList<>();
        io.strata.client.Producer producer = client.producer();
        for (int i = 0; i < 600; i++) {
            Map<String, String> h = new HashMap<>();
            if (random.nextInt(5) > 0) {
                h.put("level", Integer.toString(random.nextInt(10)));
            }
            if (random.nextInt(4) > 0) {
                h.put("region", List.of("eu", "us", "ap").get(random.nextInt(3)));
            }
            if (random.nextBoolean()) {
                h.put("tag", List.of("x", "y", "z").get(random.nextInt(3)));
            }
            List<RecordHeader> headers = new ArrayList<>();
            h.forEach((k, v) -> headers.add(new RecordHeader(k, v.getBytes(StandardCharsets.UTF_8))));
            sent.add(h);
            sends.add(producer.send("filtered", i % 2, null, ("r" + i).getBytes(StandardCharsets.UTF_8),
                    headers, 0));
        }
        for (int i = 0; i < sends.size(); i++) {
            var stored1 = sends.get(i).get(30, TimeUnit.SECONDS);
            stored.computeIfAbsent(stored1.partition(), p -> new TreeMap<>()).put(stored1.offset(), sent.get(i));
        }
        producer.close();
        List<RecordFilter> filters = List.of(
                RecordFilter.expression("level > 5"),
                RecordFilter.expression("region IN ('eu', 'ap') AND NOT (level BETWEEN 2 AND 7)"),
                RecordFilter.expression("region IS NULL OR level = 0"),
                RecordFilter.of(List.of("x", "z"), "level <> 3"),
                RecordFilter.of(List.of("y"), ""),
                RecordFilter.expression("region <> 'us'"));
        List<String> expressions = List.of("level > 5", "region IN ('eu', 'ap') AND NOT (level BETWEEN 2 AND 7)",
                "region IS NULL OR level = 0", "level <> 3", "", "region <> 'us'");
        List<List<String>> tags = List.of(List.of(), List.of(), List.of(), List.of("x", "z"), List.of("y"), List.of());
        for (int f = 0; f < filters.size(); f++) {
            List<String> expected = new ArrayList<>();
            for (var partition : new TreeMap<>(stored).entrySet()) {
                for (var record : partition.getValue().entrySet()) {
                    if (filters.get(f).matches(record.getValue()::get)) {
                        expected.add(partition.getKey() + "@" + record.getKey());
                    }
                }
            }
            ConsumerConfig config = ConsumerConfig.DEFAULT.withTags(tags.get(f)).withFilter(expressions.get(f));
            List<String> got = new ArrayList<>();
            try (Consumer consumer = client.consumer("filtered", config)) {
                consumer.assignAll();
                consumer.seekToBeginning();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while ((consumer.position(0) < stored.get(0).lastKey() + 1
                        || consumer.position(1) < stored.get(1).lastKey() + 1) && System.nanoTime() < deadline) {
                    for (ConsumerRecord r : consumer.poll(Duration.ofMillis(500))) {
                        got.add(r.partition() + "@" + r.offset());
                    }
                }
                assertThat(consumer.position(0)).as("past the records filter %d left out", f)
                        .isEqualTo(stored.get(0).lastKey() + 1);
            }
            assertThat(got).as("filter %s", filters.get(f)).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(expected).as("a filter that passes some, not all").isNotEmpty().hasSizeLessThan(600);
        }

        // What crosses the network: only the passing records, and a next offset past the rest.
        ManagedChannel channel = ManagedChannelBuilder.forTarget(node.address()).usePlaintext().build();
        try {
            FetchResponse answer = FetchServiceGrpc.newBlockingStub(channel).fetch(FetchRequest.newBuilder()
                    .setTopic("filtered").setPartition(0).setOffset(0).setMaxBytes(1 << 20)
                    .setFilter(io.strata.api.v1.RecordFilter.newBuilder().addTags("y")).build());
            assertThat(answer.getRecordsList()).isNotEmpty().allMatch(r -> r.getHeadersList().stream()
                    .anyMatch(h -> h.getKey().equals("tag") && h.getValue().toStringUtf8().equals("y")));
            assertThat(answer.getNextOffset()).isEqualTo(stored.get(0).lastKey() + 1);
            StatusRuntimeException chunks = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                    () -> FetchServiceGrpc.newBlockingStub(channel).fetchChunks(FetchRequest.newBuilder()
                            .setTopic("filtered").setPartition(0).setFilter(io.strata.api.v1.RecordFilter.newBuilder()
                                    .addTags("y")).build()));
            assertThat(chunks.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        } finally {
            channel.shutdownNow();
        }
        try (Consumer consumer = client.consumer("filtered", ConsumerConfig.DEFAULT.withFilter("level >"))) {
            consumer.assignAll();
            consumer.seekToBeginning();
            StrataException refused = org.junit.jupiter.api.Assertions.assertThrows(StrataException.class,
                    () -> consumer.poll(Duration.ofSeconds(10)));
            assertThat(refused.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(refused.getMessage()).contains("at column 8");
        }
    }
}
