package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.client.Consumer;
import io.strata.client.ConsumerConfig;
import io.strata.client.ConsumerRecord;
import io.strata.client.Groups;
import io.strata.client.Producer;
import io.strata.client.StrataClient;
import io.strata.launcher.ManagedProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer groups across processes, against a real etcd and a real S3 server: members are processes of their
 * own ({@link GroupMemberMain}) that the tests SIGKILL and SIGSTOP, and whose logs are the history the checks
 * read (every record consumed at least once, none committed delivered again, no partition read by two
 * members at once).
 */
class ConsumerGroupTest {
    private static final long SESSION_MS = 6_000;

    @TempDir
    Path work;
    private StrataCluster cluster;
    private StrataProcess node;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void start() {
        cluster = new StrataCluster(work);
        node = cluster.start("node-1", "ingest,fetch");
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        cluster.close();
    }

    private StrataClient client() {
        StrataClient client = StrataClient.builder().server(node.address()).build();
        closeables.add(client);
        return client;
    }

    /** One event of a member's log (see {@link GroupMemberMain}). */
    record Event(String type, long ms, String member, int partition, long offset, String value) {
        static Event parse(String line) {
            String[] f = line.split(" ");
            return new Event(f[0], Long.parseLong(f[1]), f[2], f.length > 3 && !f[0].equals("FAILED")
                    ? Integer.parseInt(f[3]) : -1, f.length > 4 ? Long.parseLong(f[4]) : -1,
                    f.length > 5 ? f[5] : f[0].equals("FAILED") ? f[3] : null);
        }
    }

    private final class Member {
        final ManagedProcess process;

        Member(String name, String topic, String group, long sessionMs, long processingMs) {
            List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-cp", System.getProperty("java.class.path"), GroupMemberMain.class.getName(),
                    node.address(), topic, group, Long.toString(sessionMs), Long.toString(processingMs));
            process = ManagedProcess.start(name, command, Map.of(), work.resolve("members"));
            closeables.add(process);
        }

        List<Event> events() {
            try {
                return Files.readAllLines(process.log(), StandardCharsets.UTF_8).stream()
                        .filter(l -> l.matches("^(JOINED|ASSIGN|REVOKE|LOST|RECORD|COMMIT|FAILED) \\d+ .*"))
                        .map(Event::parse).toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The partitions this member holds now, by its log. */
        Set<Integer> owned() {
            Set<Integer> owned = new HashSet<>();
            for (Event e : events()) {
                switch (e.type()) {
                    case "ASSIGN" -> owned.add(e.partition());
                    case "REVOKE", "LOST" -> owned.remove(e.partition());
                    default -> {
                    }
                }
            }
            return owned;
        }
    }

    private static void await(BooleanSupplier condition, Duration limit, String what) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + limit + " waiting until " + what);
            }
            Thread.sleep(100);
        }
    }

    /** Sends {@code perPartition} records to each partition, values "p-i", at about {@code perSecond}. */
    private static CompletableFuture<Void> produce(StrataClient client, String topic, int partitions, int from,
                                                   int perPartition, int perSecond) {
        return CompletableFuture.runAsync(() -> {
            Producer producer = client.producer();
            List<CompletableFuture<?>> acks = new ArrayList<>();
            long start = System.nanoTime();
            int n = 0;
            for (int i = from; i < from + perPartition; i++) {
                for (int p = 0; p < partitions; p++) {
                    long due = start + (long) n++ * 1_000_000_000L / perSecond;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        try {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                    acks.add(producer.send(topic, p, null, (p + "-" + i).getBytes(StandardCharsets.UTF_8)));
                }
            }
            acks.forEach(CompletableFuture::join);
            producer.flush();
        });
    }

    @Test
    void aKilledMembersPartitionsMoveOnlyAfterItsSessionAndEveryRecordIsConsumedWithoutCommittedOnesAgain()
            throws Exception {
        StrataClient client = client();
        client.admin().createTopic("events", 12);
        produce(client, "events", 12, 0, 100, 5_000).join();
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            members.add(new Member("member-" + i, "events", "pipeline", SESSION_MS, 20));
        }
        await(() -> members.stream().allMatch(m -> m.owned().size() == 4), Duration.ofSeconds(60),
                "three members own four partitions each");
        CompletableFuture<Void> more = produce(client, "events", 12, 100, 100, 600); // ~2 s of steady writes
        Thread.sleep(700);
        Member victim = members.get(0);
        Set<Integer> orphaned = victim.owned();
        String victimId = victim.events().get(0).member();
        long killedAt = System.currentTimeMillis();
        victim.process.kill(); // SIGKILL: no leave, no last commit
        Groups groups = client.groups();
        // Its session lives until a heartbeat interval or so after the kill: watch for when it ends.
        long lastSeenAlive = killedAt;
        while (true) {
            long askedAt = System.currentTimeMillis();
            if (groups.describe("pipeline").members().stream().noneMatch(m -> m.memberId().equals(victimId))) {
                break;
            }
            lastSeenAlive = askedAt;
            assertThat(askedAt - killedAt).as("the killed member's session ends").isLessThan(SESSION_MS * 3);
            Thread.sleep(50);
        }
        more.join();
        await(() -> members.get(1).owned().size() + members.get(2).owned().size() == 12, Duration.ofSeconds(60),
                "the survivors own all twelve partitions");
        await(() -> groups.describe("pipeline").partitions().stream().allMatch(p -> p.lag() == 0),
                Duration.ofSeconds(60), "the survivors committed every record");

        Map<String, List<Event>> logs = new HashMap<>();
        members.forEach(m -> logs.put(m.process.toString(), m.events()));
        List<Event> all = logs.values().stream().flatMap(List::stream).sorted((a, b) -> Long.compare(a.ms(), b.ms()))
                .toList();
        // The orphaned partitions went to survivors only once the victim's session had ended: after the last
        // moment it was seen a member, and no sooner than a session minus one heartbeat interval after the kill.
        for (Event e : all) {
            if (e.type().equals("ASSIGN") && e.ms() > killedAt && orphaned.contains(e.partition())) {
                assertThat(e.ms()).as("partition %d taken over %d ms after the kill", e.partition(),
                        e.ms() - killedAt).isGreaterThanOrEqualTo(lastSeenAlive)
                        .isGreaterThanOrEqualTo(killedAt + SESSION_MS - SESSION_MS / 3 - 500);
            }
        }
        // The survivors' sessions held throughout (several session timeouts): their beats, sent on their
        // assignment streams, were acknowledged there; neither lost a partition nor joined again.
        for (Member survivor : members.subList(1, 3)) {
            assertThat(survivor.events()).noneMatch(e -> e.type().equals("LOST"))
                    .filteredOn(e -> e.type().equals("JOINED")).hasSize(1);
        }
        // No partition held by two members at once: ownership intervals per partition do not overlap.
        Map<Integer, List<long[]>> intervals = new TreeMap<>();
        for (var entry : logs.entrySet()) {
            Map<Integer, Long> since = new HashMap<>();
            boolean killed = entry.getKey().equals(victim.process.toString());
            for (Event e : entry.getValue()) {
                if (e.type().equals("ASSIGN")) {
                    since.put(e.partition(), e.ms());
                } else if ((e.type().equals("REVOKE") || e.type().equals("LOST")) && since.containsKey(e.partition())) {
                    intervals.computeIfAbsent(e.partition(), x -> new ArrayList<>())
                            .add(new long[] {since.remove(e.partition()), e.ms()});
                }
            }
            long end = killed ? killedAt : Long.MAX_VALUE;
            since.forEach((p, from) -> intervals.computeIfAbsent(p, x -> new ArrayList<>()).add(new long[] {from, end}));
        }
        intervals.forEach((p, list) -> {
            list.sort((a, b) -> Long.compare(a[0], b[0]));
            for (int i = 1; i < list.size(); i++) {
                assertThat(list.get(i)[0]).as("partition %d: an owner started before the previous one ended", p)
                        .isGreaterThanOrEqualTo(list.get(i - 1)[1]);
            }
        });
        // At least once: every record of every partition was delivered.
        Map<Integer, Set<Long>> delivered = new TreeMap<>();
        all.stream().filter(e -> e.type().equals("RECORD"))
                .forEach(e -> delivered.computeIfAbsent(e.partition(), x -> new HashSet<>()).add(e.offset()));
        for (int p = 0; p < 12; p++) {
            assertThat(delivered.get(p)).as("partition %d delivered", p).hasSize(200);
        }
        // Nothing committed delivered again: each new owner starts at or after the last commit made before it.
        Map<Integer, Long> lastCommit = new HashMap<>();
        Map<String, Map<Integer, Boolean>> startedAt = new HashMap<>();
        long redelivered = 0;
        for (Event e : all) {
            switch (e.type()) {
                case "COMMIT" -> lastCommit.merge(e.partition(), e.offset(), Math::max);
                case "ASSIGN" -> startedAt.computeIfAbsent(e.member(), x -> new HashMap<>()).put(e.partition(), false);
                case "RECORD" -> {
                    Map<Integer, Boolean> mine = startedAt.get(e.member());
                    if (mine != null && Boolean.FALSE.equals(mine.get(e.partition()))) {
                        mine.put(e.partition(), true);
                        assertThat(e.offset()).as("first record of partition %d for %s", e.partition(), e.member())
                                .isGreaterThanOrEqualTo(lastCommit.getOrDefault(e.partition(), 0L));
                    }
                }
                default -> {
                }
            }
        }
        for (Set<Long> offsets : delivered.values()) {
            redelivered += offsets.size();
        }
        long deliveries = all.stream().filter(e -> e.type().equals("RECORD")).count();
        System.out.printf("group under SIGKILL: %d deliveries of 2400 records (%d again after the kill), "
                + "orphaned partitions %s%n", deliveries, deliveries - redelivered, orphaned);
    }

    @Test
    void aMemberPausedPastItsSessionCannotCommitWhenItResumes() throws Exception {
        StrataClient client = client();
        client.admin().createTopic("paused", 2);
        CompletableFuture<Void> writes = produce(client, "paused", 2, 0, 400, 40); // 20 s of steady writes
        Member sleeper = new Member("sleeper", "paused", "g", 3_000, 1_000);
        await(() -> sleeper.owned().size() == 2, Duration.ofSeconds(60), "the first member owns both partitions");
        await(() -> sleeper.events().stream().anyMatch(e -> e.type().equals("COMMIT")), Duration.ofSeconds(30),
                "the first member committed");
        long records = sleeper.events().stream().filter(e -> e.type().equals("RECORD")).count();
        await(() -> sleeper.events().stream().filter(e -> e.type().equals("RECORD")).count() > records,
                Duration.ofSeconds(30), "the first member is processing new records");
        sleeper.process.pause(); // SIGSTOP while it holds records it has not committed
        String zombie = sleeper.events().stream().filter(e -> e.type().equals("JOINED")).findFirst().orElseThrow()
                .member();
        Member successor = new Member("successor", "paused", "g", 10_000, 0);
        await(() -> successor.owned().size() == 2, Duration.ofSeconds(60),
                "the successor owns both partitions once the paused member's session ended");
        await(() -> successor.events().stream().anyMatch(e -> e.type().equals("COMMIT")), Duration.ofSeconds(30),
                "the successor committed");
        long resumedAt = System.currentTimeMillis();
        sleeper.process.resume();
        await(() -> sleeper.events().stream().anyMatch(e -> e.type().equals("FAILED") && e.ms() >= resumedAt),
                Duration.ofSeconds(30), "the resumed member tried to commit");
        assertThat(sleeper.events()).filteredOn(e -> e.type().equals("COMMIT") && e.ms() >= resumedAt
                && e.member().equals(zombie)).as("commits by the paused member after it resumed").isEmpty();
        assertThat(sleeper.events()).filteredOn(e -> e.type().equals("FAILED") && e.ms() >= resumedAt).first()
                .satisfies(e -> assertThat(e.value()).isIn("NOT_FOUND", "FAILED_PRECONDITION"));
        writes.join();
    }

    @Test
    void twoGroupsEachReceiveEveryRecordAndAResetByTimeLandsOnTheFirstRecordAtOrAfterIt() throws Exception {
        StrataClient client = client();
        client.admin().createTopic("shared", 3);
        produce(client, "shared", 3, 0, 50, 2_000).join();
        Thread.sleep(50);
        long between = System.currentTimeMillis();
        Thread.sleep(50);
        produce(client, "shared", 3, 50, 50, 2_000).join();
        for (String group : List.of("billing", "audit")) {
            Set<String> seen = readAll(client, group, 300);
            assertThat(seen).as("group %s", group).hasSize(300);
        }
        Map<String, Long> reset = client.groups().reset("billing", new Groups.ResetTo.Timestamp(between), "shared",
                null, false);
        assertThat(reset).containsOnlyKeys("shared/0", "shared/1", "shared/2").allSatisfy((p, o) ->
                assertThat(o).as("the first record of %s at or after the time", p).isEqualTo(50L));
        Set<String> again = readAll(client, "billing", 150);
        assertThat(again).allSatisfy(v -> assertThat(Integer.parseInt(v.split("-")[1])).isGreaterThanOrEqualTo(50));

        // A listener that fails on revocation fails that poll, but the member gives the partitions up all the same
        // (thrown halfway, the revocation was lost: it read them on, and the next member waited).
        try (Consumer first = client.consumer("shared", ConsumerConfig.DEFAULT);
             Consumer second = client.consumer("shared", ConsumerConfig.DEFAULT)) {
            first.subscribe("careless", new io.strata.client.RebalanceListener() {
                @Override
                public void onPartitionsRevoked(java.util.Collection<Integer> partitions) {
                    throw new IllegalStateException("the application's own failure");
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (first.assignment().size() < 3 && System.nanoTime() < deadline) {
                first.poll(Duration.ofMillis(200));
            }
            assertThat(first.assignment()).hasSize(3);
            second.subscribe("careless");
            List<RuntimeException> failures = new ArrayList<>();
            while ((first.assignment().size() == 3 || second.assignment().isEmpty()) && System.nanoTime() < deadline) {
                try {
                    first.poll(Duration.ofMillis(100));
                } catch (IllegalStateException e) {
                    failures.add(e);
                }
                second.poll(Duration.ofMillis(100));
            }
            assertThat(failures).extracting(Throwable::getMessage).containsExactly("the application's own failure");
            assertThat(first.assignment()).as("it gave up what was revoked").hasSizeLessThan(3);
            assertThat(second.assignment()).as("and the other member took it").isNotEmpty();
        }
    }

    /** Reads {@code count} records as a member of the group, committing, then leaves; answers the values. */
    private Set<String> readAll(StrataClient client, String group, int count) {
        Set<String> values = new HashSet<>();
        try (Consumer consumer = client.consumer("shared", ConsumerConfig.DEFAULT)) {
            consumer.subscribe(group);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (values.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord r : consumer.poll(Duration.ofSeconds(1))) {
                    values.add(new String(r.value(), StandardCharsets.UTF_8));
                }
            }
            consumer.commitSync();
        }
        return values.stream().collect(Collectors.toSet());
    }
}
