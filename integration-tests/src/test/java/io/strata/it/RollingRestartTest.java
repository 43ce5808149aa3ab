package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.client.Consumer;
import io.strata.client.ConsumerRecord;
import io.strata.client.Groups;
import io.strata.client.Producer;
import io.strata.client.StrataClient;
import io.strata.launcher.Installation;
import io.strata.launcher.LocalCluster;
import io.strata.launcher.ManagedProcess;
import io.strata.launcher.MemberStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every node of a launched cluster (two ingest, two fetch, the compaction node) goes away in turn while a
 * producer writes, a consumer reads and two {@code strata consume --group} processes print as members of a
 * group: first a rolling restart as Kubernetes does one (SIGTERM; each node must exit within its grace
 * period, and starts again), then a crash of each (SIGKILL, then started again; an ingest and a fetch node at
 * once), then an ingest and a fetch node frozen together (SIGSTOP for longer than the clients' keep-alive,
 * then SIGCONT). Every send succeeds (what failed on the way was retried by the client), every acknowledged
 * record is read exactly once, the consumer never sees an error, no member exits or loses its session (its
 * member id stays the same: its partitions never moved), every record is printed once, and once the members
 * are stopped (SIGTERM: they commit what they printed and leave) the group's lag is 0. The same holds in issue 27's
 * own topology, one fetch node, with each node killed in turn and members that find the cluster themselves.
 */
class RollingRestartTest {
    private static final String TOPIC = "rolling";
    private static final String GROUP = "printers";
    private static final int PARTITIONS = 4;
    private static final String DELAYED = "rolling-delayed";
    /**
     * How long after a node is back the cluster counts as moving: nodes see who owns which partition again every
     * 2 s, so for up to that long two fetch nodes may each take a partition for the other's.
     */
    private static final long SETTLE_MS = 5_000;

    @TempDir
    Path dir;
    private LocalCluster cluster;
    private final List<ManagedProcess> members = new ArrayList<>();

    @AfterEach
    void down() {
        members.forEach(ManagedProcess::kill);
        if (cluster != null && cluster.exists()) {
            cluster.down(5);
        }
    }

    @Test
    void aNodeOfEachRoleRestartedAndEveryNodeCrashedInTurnUnderLoadLosesNothingFailsNothingAndEndsNoGroupMember() throws Exception {
        long started = System.nanoTime();
        cluster = new LocalCluster(dir, new Installation(Path.of("..")), line -> { });
        cluster.up(2, 2);
        progress(started, "cluster up");
        List<String> nodes = cluster.status().stream().map(s -> s.member().name())
                .filter(n -> !n.equals("etcd") && !n.equals("s3")).toList();
        String bootstrap = cluster.clientAddresses().get(0);
        Map<String, Long> acknowledged = new ConcurrentHashMap<>();
        Queue<Throwable> sendFailures = new ConcurrentLinkedQueue<>();
        Queue<Throwable> readFailures = new ConcurrentLinkedQueue<>();
        Map<String, Integer> reads = new ConcurrentHashMap<>();
        AtomicBoolean producing = new AtomicBoolean(true);
        AtomicBoolean reading = new AtomicBoolean(true);
        AtomicInteger sent = new AtomicInteger();
        // Delayed records beside: value -> due time as sent; value -> {times read, first read at}.
        Map<String, Long> delayedAcknowledged = new ConcurrentHashMap<>();
        Map<String, long[]> delayedReads = new ConcurrentHashMap<>();
        List<long[]> disturbed = new java.util.concurrent.CopyOnWriteArrayList<>(); // {from, to}: a node away

        try (StrataClient client = StrataClient.builder().server(bootstrap).build()) {
            client.admin().createTopic(TOPIC, PARTITIONS);
            client.admin().createTopic(DELAYED, 2);
            for (int i = 1; i <= 2; i++) {
                members.add(groupMember("member-" + i, String.join(",", cluster.clientAddresses())));
            }
            Set<String> memberIds = awaitMembers(client, 2);
            progress(started, "group members in");
            Thread producer = producer(client, producing, sent, acknowledged, sendFailures);
            Thread delayedProducer = new Thread(() -> {
                try (Producer p = client.producer()) {
                    List<CompletableFuture<?>> pending = new ArrayList<>();
                    for (int i = 0; producing.get(); i++) {
                        String value = "d-" + i;
                        long due = System.currentTimeMillis() + 1_000 + (i % 3) * 1_000L;
                        pending.add(p.sendDelayed(DELAYED, null, null, value.getBytes(StandardCharsets.UTF_8), List.of(),
                                due).whenComplete((m, e) -> {
                                    if (e != null) {
                                        sendFailures.add(e);
                                    } else {
                                        delayedAcknowledged.put(value, due);
                                    }
                                }));
                        sleep(20); // about 50 delayed records a second
                    }
                    p.flush();
                    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).exceptionally(e -> null)
                            .get(120, TimeUnit.SECONDS);
                } catch (Exception e) {
                    sendFailures.add(e);
                }
            }, "rolling-delayed-producer");
            Thread delayedConsumer = new Thread(() -> {
                try (StrataClient readerClient = StrataClient.builder().server(bootstrap).build();
                     Consumer c = readerClient.consumer(DELAYED)) {
                    c.assignAll();
                    c.seekToBeginning();
                    while (reading.get()) {
                        for (ConsumerRecord r : c.poll(Duration.ofMillis(200))) {
                            long at = System.currentTimeMillis();
                            delayedReads.merge(new String(r.value(), StandardCharsets.UTF_8), new long[] {1, at},
                                    (a, b) -> new long[] {a[0] + 1, a[1]});
                        }
                    }
                } catch (Exception e) {
                    readFailures.add(e);
                }
            }, "rolling-delayed-consumer");
            Thread consumer = new Thread(() -> {
                try (StrataClient readerClient = StrataClient.builder().server(bootstrap).build();
                     Consumer c = readerClient.consumer(TOPIC)) {
                    c.assignAll();
                    c.seekToBeginning();
                    while (reading.get()) {
                        for (ConsumerRecord r : c.poll(Duration.ofMillis(500))) {
                            reads.merge(new String(r.value(), StandardCharsets.UTF_8), 1, Integer::sum);
                        }
                    }
                } catch (Exception e) {
                    readFailures.add(e);
                }
            }, "rolling-consumer");
            // A cold cluster's first seconds are slow on every path (issue 27): not held to the delayed records' second.
            disturbed.add(new long[] {0, System.currentTimeMillis() + 5_000});
            producer.start();
            consumer.start();
            delayedProducer.start();
            delayedConsumer.start();
            sleep(2_000);

            // A graceful restart (drain, hand-off, exit) of one node of each role: a role's nodes drain alike. Every
            // node is crashed below.
            List<String> restarted = List.of("ingest-1", "fetch-2", "compaction");
            assertThat(nodes).containsAll(restarted);
            for (String node : restarted) {
                int before = acknowledged.size();
                long away = System.currentTimeMillis();
                assertThat(cluster.stop(node, 30)).as(node + " drained and exited within its grace period").isTrue();
                progress(started, node + " stopped");
                MemberStatus back = cluster.start(node);
                progress(started, node + " started");
                assertThat(back.health()).isEqualTo(MemberStatus.Health.UP);
                sleep(1_500);
                awaitBeyond(acknowledged, before);
                disturbed.add(new long[] {away, System.currentTimeMillis() + SETTLE_MS});
                assertThat(acknowledged.size()).as("records acknowledged while " + node + " restarted")
                        .isGreaterThan(before);
                progress(started, node + " restarted");
            }
            // Crashes: an ingest and a fetch node at once (the other of each role serves), then the compaction node.
            List<List<String>> crashes = List.of(List.of("ingest-1", "fetch-1"), List.of("ingest-2", "fetch-2"),
                    List.of("compaction"));
            assertThat(crashes.stream().flatMap(List::stream).toList()).as("every node crashes")
                    .containsExactlyInAnyOrderElementsOf(nodes);
            for (List<String> crashed : crashes) {
                int before = acknowledged.size();
                long away = System.currentTimeMillis();
                crashed.forEach(cluster::kill);
                sleep(1_000);
                assertThat(cluster.start(crashed)).allSatisfy(back ->
                        assertThat(back.health()).isEqualTo(MemberStatus.Health.UP));
                sleep(1_500);
                awaitBeyond(acknowledged, before);
                disturbed.add(new long[] {away, System.currentTimeMillis() + SETTLE_MS});
                assertThat(acknowledged.size()).as("records acknowledged while " + crashed + " crashed and came back")
                        .isGreaterThan(before);
                assertThat(members).as("group members still running after " + crashed + " crashed" + exited())
                        .allMatch(ManagedProcess::isAlive);
                progress(started, crashed + " crashed and back");
            }
            // An ingest and a fetch node frozen at once, past the keep-alive: the clients find them gone.
            List<String> frozen = List.of("ingest-1", "fetch-1");
            {
                int before = acknowledged.size();
                List<Long> pids = frozen.stream().map(node -> cluster.status().stream()
                        .filter(m -> m.member().name().equals(node)).findFirst().orElseThrow().pid()).toList();
                long away = System.currentTimeMillis();
                for (long pid : pids) {
                    signal("STOP", pid);
                }
                sleep(17_000); // past the keep-alive's 10 s + 5 s: the clients find the nodes gone
                for (long pid : pids) {
                    signal("CONT", pid);
                }
                sleep(1_500);
                awaitBeyond(acknowledged, before);
                disturbed.add(new long[] {away, System.currentTimeMillis() + SETTLE_MS});
                assertThat(acknowledged.size()).as("records acknowledged while " + frozen + " were frozen")
                        .isGreaterThan(before);
                assertThat(members).as("group members still running after " + frozen + " were frozen" + exited())
                        .allMatch(ManagedProcess::isAlive);
                progress(started, frozen + " frozen and thawed");
            }

            sleep(SETTLE_MS + 4_000); // every node up and settled: delayed records due now are held to time
            producing.set(false);
            producer.join(TimeUnit.SECONDS.toMillis(150));
            delayedProducer.join(TimeUnit.SECONDS.toMillis(150));
            assertThat(sendFailures).as("sends that failed").isEmpty();
            assertThat(acknowledged).hasSize(sent.get());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!(reads.keySet().containsAll(acknowledged.keySet())
                    && delayedReads.keySet().containsAll(delayedAcknowledged.keySet())
                    && printed().containsAll(acknowledged.keySet())) && System.nanoTime() < deadline) {
                sleep(200);
            }
            progress(started, "everything read");
            sleep(1_000); // a delayed record delivered twice would show by now
            reading.set(false);
            consumer.join(TimeUnit.SECONDS.toMillis(30));
            delayedConsumer.join(TimeUnit.SECONDS.toMillis(30));

            assertThat(members).as("group members still running at the end" + exited())
                    .allMatch(ManagedProcess::isAlive);
            assertThat(client.groups().describe(GROUP).members()).extracting(Groups.Member::memberId)
                    .as("the members' sessions outlived every node they talked to").containsExactlyInAnyOrderElementsOf(memberIds);
            for (ManagedProcess member : members) {
                assertThat(member.stop(30)).as(member + " committed, left and exited on SIGTERM").isTrue();
            }
            progress(started, "members stopped");
            Groups.Description group = client.groups().describe(GROUP);
            assertThat(group.members()).as("members left").isEmpty();
            assertThat(group.partitions()).as("the group's partitions").hasSize(PARTITIONS)
                    .allSatisfy(p -> assertThat(p.lag()).as("lag of partition " + p.partition()).isZero());
        }
        assertThat(readFailures).as("errors the consumer saw").isEmpty();
        assertThat(missing(reads.keySet(), acknowledged.keySet())).as("acknowledged records never read").isEmpty();
        assertThat(reads.values()).as("each once: the retried batches were stored once").containsOnly(1);
        assertThat(missing(delayedReads.keySet(), delayedAcknowledged.keySet()))
                .as("acknowledged delayed records never delivered").isEmpty();
        assertThat(delayedReads).as("each once, whichever node crashed when").allSatisfy((v, r) ->
                assertThat(r[0]).as(v).isEqualTo(1));
        long latest = 0;
        int held = 0;
        int overASecond = 0;
        for (Map.Entry<String, Long> d : delayedAcknowledged.entrySet()) {
            long due = d.getValue();
            long at = delayedReads.get(d.getKey())[1];
            assertThat(at).as(d.getKey() + " not before its time").isGreaterThanOrEqualTo(due);
            if (disturbed.stream().noneMatch(w -> due >= w[0] && due <= w[1])) {
                // A bound that catches a stuck or lost delivery, not the one second: eight JVMs share the two
                // cores under load here, and a delivery is a durable produce, whose rare stalls (1-2 s seen in runs
                // of this test) are issue 27's. QueuesTest holds every kind of reader to the second.
                assertThat(at - due).as(d.getKey() + ", due while every node was up, within five seconds after its time")
                        .isLessThanOrEqualTo(5_000);
                latest = Math.max(latest, at - due);
                held++;
                overASecond += at - due > 1_000 ? 1 : 0;
            }
        }
        assertThat(held).as("delayed records due while every node was up").isGreaterThan(50);
        System.out.printf("delayed records: %d delivered once each, none early; %d due with every node up, at most %d "
                + "ms late, %d more than a second%n", delayedAcknowledged.size(), held, latest, overASecond);
        assertThat(missing(printed(), acknowledged.keySet())).as("acknowledged records no group member printed")
                .isEmpty();
        assertThat(printedLines()).as("each once: no partition moved, so none was read again")
                .hasSize(printed().size());
        System.out.printf("restarts of a node of each role, crashes of %s: %d records acknowledged, each read once and printed by a "
                + "member of the group%n", nodes, acknowledged.size());
    }

    /**
     * The issue's own topology ({@code strata cluster up --ingest 2 --fetch 1}): each node killed (SIGKILL) and
     * started again in turn, the only fetch node among them, while a producer writes and two {@code strata consume
     * --group} processes, given no address (they find the cluster from its folder), print. No member exits, every
     * acknowledged record is printed, and once the members stop the group's lag is 0.
     */
    @Test
    void membersFindingTheClusterThemselvesOutliveEachNodeKilledInTurnTheOnlyFetchNodeToo() throws Exception {
        long started = System.nanoTime();
        cluster = new LocalCluster(dir, new Installation(Path.of("..")), line -> { });
        cluster.up(2, 1);
        progress(started, "cluster up");
        Map<String, Long> acknowledged = new ConcurrentHashMap<>();
        Queue<Throwable> sendFailures = new ConcurrentLinkedQueue<>();
        AtomicBoolean producing = new AtomicBoolean(true);
        AtomicInteger sent = new AtomicInteger();
        try (StrataClient client = StrataClient.builder().server(String.join(",", cluster.clientAddresses()))
                .build()) {
            client.admin().createTopic(TOPIC, PARTITIONS);
            for (int i = 1; i <= 2; i++) {
                members.add(groupMember("member-" + i, null));
            }
            awaitMembers(client, 2);
            Thread producer = producer(client, producing, sent, acknowledged, sendFailures);
            producer.start();
            sleep(2_000);
            for (String node : List.of("ingest-1", "fetch-1", "ingest-2", "compaction")) {
                int before = acknowledged.size();
                cluster.kill(node);
                sleep(1_000);
                assertThat(cluster.start(node).health()).as(node + " back").isEqualTo(MemberStatus.Health.UP);
                sleep(1_500);
                awaitBeyond(acknowledged, before);
                assertThat(acknowledged.size()).as("records acknowledged while " + node + " was away and back")
                        .isGreaterThan(before);
                assertThat(members).as("group members still running after " + node + " was killed" + exited())
                        .allMatch(ManagedProcess::isAlive);
                progress(started, node + " killed and back");
            }
            producing.set(false);
            producer.join(TimeUnit.SECONDS.toMillis(150));
            assertThat(sendFailures).as("sends that failed").isEmpty();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!printed().containsAll(acknowledged.keySet()) && System.nanoTime() < deadline) {
                sleep(200);
            }
            assertThat(members).as("group members still running at the end" + exited())
                    .allMatch(ManagedProcess::isAlive);
            for (ManagedProcess member : members) {
                assertThat(member.stop(30)).as(member + " committed, left and exited on SIGTERM").isTrue();
            }
            Groups.Description group = client.groups().describe(GROUP);
            assertThat(group.members()).as("members left").isEmpty();
            assertThat(group.partitions()).as("the group's partitions").hasSize(PARTITIONS)
                    .allSatisfy(p -> assertThat(p.lag()).as("lag of partition " + p.partition()).isZero());
        }
        assertThat(acknowledged).as("records acknowledged").hasSize(sent.get());
        assertThat(missing(printed(), acknowledged.keySet())).as("acknowledged records no group member printed")
                .isEmpty();
        progress(started, acknowledged.size() + " records acknowledged, each printed by a member");
    }

    /**
     * {@code strata consume --group} as a process of its own, as a user would run it: pointed at every node
     * ({@code servers}), or (null) finding the cluster from its folder, as after {@code strata cluster up}.
     */
    private ManagedProcess groupMember(String name, String servers) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                "io.strata.cli.StrataCli", "consume", TOPIC, "--group", GROUP, "--timeout-ms", "0"));
        if (servers != null) {
            command.addAll(List.of("--server", servers));
        }
        return ManagedProcess.start(name, command, servers != null ? Map.of()
                : Map.of("STRATA_CLUSTER_DIR", cluster.dir().toString()), dir.resolve("members"));
    }

    /** Sends about 500 records a second to {@link #TOPIC} until {@code producing} is false, then waits for all. */
    private static Thread producer(StrataClient client, AtomicBoolean producing, AtomicInteger sent,
                                   Map<String, Long> acknowledged, Queue<Throwable> sendFailures) {
        return new Thread(() -> {
            try (Producer p = client.producer()) {
                List<CompletableFuture<?>> pending = new ArrayList<>();
                while (producing.get()) {
                    String value = "r-" + sent.getAndIncrement();
                    pending.add(p.send(TOPIC, null, null, value.getBytes(StandardCharsets.UTF_8))
                            .whenComplete((m, e) -> {
                                if (e != null) {
                                    sendFailures.add(e);
                                } else {
                                    acknowledged.put(value, m.offset());
                                }
                            }));
                    sleep(2);
                }
                p.flush();
                CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).exceptionally(e -> null)
                        .get(120, TimeUnit.SECONDS);
            } catch (Exception e) {
                sendFailures.add(e);
            }
        }, "rolling-producer");
    }

    /** What each member that exited said last (its log without the records it printed), for a failure's message. */
    private String exited() {
        StringBuilder out = new StringBuilder();
        for (ManagedProcess member : members) {
            if (member.isAlive()) {
                continue;
            }
            try {
                List<String> said = Files.readAllLines(member.log(), StandardCharsets.UTF_8).stream()
                        .filter(l -> !l.startsWith("r-")).toList();
                out.append(String.format("%n%s exited (%s), last said:%n  %s", member, member.exitCode(),
                        String.join("\n  ", said.subList(Math.max(0, said.size() - 20), said.size()))));
            } catch (IOException e) {
                out.append(String.format("%n%s exited; its log: %s", member, e));
            }
        }
        return out.toString();
    }

    /** The record values the members printed so far (their logs also hold anything they wrote to stderr). */
    private Set<String> printed() {
        return new HashSet<>(printedLines());
    }

    private List<String> printedLines() {
        List<String> all = new ArrayList<>();
        for (ManagedProcess member : members) {
            try {
                Files.readAllLines(member.log(), StandardCharsets.UTF_8).stream().filter(l -> l.startsWith("r-"))
                        .forEach(all::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return all;
    }

    /** Waits until the group has {@code count} members with partitions; answers their member ids. */
    private static Set<String> awaitMembers(StrataClient client, int count) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                Groups.Description group = client.groups().describe(GROUP);
                if (group.members().size() == count && group.members().stream().noneMatch(m -> m.owned().isEmpty())) {
                    return group.members().stream().map(Groups.Member::memberId).collect(
                            java.util.stream.Collectors.toSet());
                }
            } catch (io.strata.client.StrataException e) {
                // the group does not exist yet
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the group did not get " + count + " members with partitions in 60 s");
            }
            sleep(200);
        }
    }

    private static void signal(String signal, long pid) throws IOException, InterruptedException {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor())
                .as("kill -" + signal + " " + pid).isZero();
    }

    /**
     * Waits, up to 10 s, for a record acknowledged past {@code before}: a client that marked the node restarted just
     * before down (for 10 s) while another goes away may take that long to send to it again.
     */
    private static void awaitBeyond(Map<String, Long> acknowledged, int before) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (acknowledged.size() <= before && System.nanoTime() < until) {
            sleep(100);
        }
    }

    /**
     * What {@code wanted} holds that {@code have} does not. AssertJ's {@code containsAll} compares every pair (tens of
     * thousands of records here: 80 s of a CI run); a set difference is linear.
     */
    private static Set<String> missing(Set<String> have, Set<String> wanted) {
        Set<String> missing = new java.util.TreeSet<>(wanted);
        missing.removeAll(have);
        return missing;
    }

    /** Where a long run's time goes, in its output. */
    private static void progress(long started, String step) {
        System.out.printf("rolling restart: %s at %.1f s%n", step, (System.nanoTime() - started) / 1e9);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
