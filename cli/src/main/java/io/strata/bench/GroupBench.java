package io.strata.bench;

import io.strata.client.Consumer;
import io.strata.client.ConsumerConfig;
import io.strata.client.ConsumerRecord;
import io.strata.client.PartitionInfo;
import io.strata.client.StrataClient;
import io.strata.client.StrataException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * The consumer group benchmark, over a topic that holds a backlog: (1) catch-up reading without a group and
 * by a group of {@code members}, (2) how long a rebalance takes when a member joins, leaves gracefully and
 * is SIGKILLed (a child process running {@code strata consume --group}), (3) how many commits a second the
 * members sustain. Members are threads with a consumer each. Ends with {@code groups.<figure>=<value>} lines.
 */
public final class GroupBench {
    private final StrataClient client;
    private final String server;
    private final String topic;
    private final int memberCount;
    private final Duration commitFor;
    private final PrintWriter progress;
    private final List<String> results = new ArrayList<>();
    private final Map<Integer, Long> ends = new HashMap<>();
    private long backlogBytes;

    public GroupBench(StrataClient client, String server, String topic, int members, Duration commitFor,
                      PrintWriter progress) {
        this.client = client;
        this.server = server;
        this.topic = topic;
        this.memberCount = members;
        this.commitFor = commitFor;
        this.progress = progress;
    }

    private void result(String name, String format, Object value) {
        results.add(String.format(Locale.ROOT, "groups.%s=" + format, name, value));
    }

    private void say(String format, Object... args) {
        progress.printf(Locale.ROOT, format + "%n", args);
        progress.flush();
    }

    /** One member on its own thread: polls (or commits in a loop) until told to stop. */
    private final class Member implements Runnable {
        final Consumer consumer;
        final Thread thread;
        final AtomicLong records = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong commits = new AtomicLong();
        final AtomicLong partitionCommits = new AtomicLong();
        volatile int owned;
        volatile boolean commitLoop;
        volatile boolean leave;
        volatile boolean done;
        final Map<Integer, Long> progressByPartition;

        Member(String group, int index, Map<Integer, Long> progressByPartition) {
            this.progressByPartition = progressByPartition;
            consumer = client.consumer(topic, ConsumerConfig.DEFAULT.withClientId("bench-" + index));
            consumer.subscribe(group);
            thread = new Thread(this, "bench-member-" + index);
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void run() {
            try {
                long flip = 0;
                while (!leave) {
                    if (commitLoop) {
                        Map<Integer, Long> offsets = new HashMap<>();
                        for (int p : consumer.assignment()) {
                            offsets.put(p, Math.max(0, ends.get(p) - (flip & 1)));
                        }
                        flip++;
                        if (!offsets.isEmpty()) {
                            consumer.commitSync(offsets);
                            commits.incrementAndGet();
                            partitionCommits.addAndGet(offsets.size());
                        }
                        if (flip % 100 == 0) {
                            consumer.poll(Duration.ZERO); // hear of assignment changes, without loading the node
                        }
                    } else {
                        for (ConsumerRecord r : consumer.poll(Duration.ofMillis(100))) {
                            records.incrementAndGet();
                            bytes.addAndGet(r.value().length);
                            progressByPartition.merge(r.partition(), r.offset() + 1, Math::max);
                        }
                    }
                    owned = consumer.assignment().size();
                }
            } catch (StrataException e) {
                say("member %s: %s", thread.getName(), e.getMessage());
            } finally {
                consumer.close();
                owned = 0;
                done = true;
            }
        }

        void stop() throws InterruptedException {
            leave = true;
            thread.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    private static long await(BooleanSupplier condition, Duration limit) throws InterruptedException {
        long start = System.nanoTime();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - start > limit.toNanos()) {
                return -1;
            }
            Thread.sleep(5);
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    public List<String> run() throws Exception {
        for (PartitionInfo p : client.admin().describeTopic(topic).partitionDetails()) {
            ends.put(p.partition(), p.endOffset());
        }
        int partitions = ends.size();
        long backlog = ends.values().stream().mapToLong(Long::longValue).sum();
        if (backlog == 0) {
            throw new IllegalStateException("topic " + topic + " is empty: fill it first (strata bench produce)");
        }
        say("backlog: %d records over %d partitions", backlog, partitions);

        // 1. Catch-up without a group, then by a group.
        Map<Integer, Long> soloProgress = new ConcurrentHashMap<>();
        double soloSeconds;
        try (Consumer solo = client.consumer(topic)) {
            solo.assignAll();
            solo.seekToBeginning();
            long start = System.nanoTime();
            while (!caughtUp(soloProgress)) {
                for (ConsumerRecord r : solo.poll(Duration.ofMillis(500))) {
                    backlogBytes += r.value().length;
                    soloProgress.merge(r.partition(), r.offset() + 1, Math::max);
                }
            }
            soloSeconds = (System.nanoTime() - start) / 1e9;
        }
        say("without a group: %.2f s, %.1f MB/s", soloSeconds, backlogBytes / soloSeconds / 1e6);
        String group = "bench-" + System.currentTimeMillis();
        Map<Integer, Long> groupProgress = new ConcurrentHashMap<>();
        List<Member> members = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < memberCount; i++) {
            members.add(new Member(group, i, groupProgress));
        }
        while (!caughtUp(groupProgress)) {
            Thread.sleep(5);
        }
        double groupSeconds = (System.nanoTime() - start) / 1e9;
        long groupRecords = members.stream().mapToLong(m -> m.records.get()).sum();
        say("group of %d: %.2f s, %.1f MB/s (%d deliveries for %d records)", memberCount, groupSeconds,
                backlogBytes / groupSeconds / 1e6, groupRecords, backlog);
        result("backlog_records", "%d", backlog);
        result("groupless_mb_s", "%.1f", backlogBytes / soloSeconds / 1e6);
        result("group_mb_s", "%.1f", backlogBytes / groupSeconds / 1e6);
        result("group_ratio", "%.2f", soloSeconds / groupSeconds);

        // 2. Rebalances: a member joins, one leaves, one is killed.
        await(() -> members.stream().mapToInt(m -> m.owned).sum() == partitions, Duration.ofSeconds(60));
        int share = partitions / (memberCount + 1);
        Member joiner = new Member(group, memberCount, groupProgress);
        long joinMs = await(() -> joiner.owned >= share
                && members.stream().mapToInt(m -> m.owned).sum() + joiner.owned == partitions, Duration.ofSeconds(60));
        say("a member joined: it owns its share after %d ms", joinMs);
        result("join_rebalance_ms", "%d", joinMs);
        members.add(joiner);
        Member leaver = members.remove(0);
        long leaveStart = System.nanoTime();
        leaver.stop();
        long leaveMs = await(() -> members.stream().mapToInt(m -> m.owned).sum() == partitions, Duration.ofSeconds(60)) < 0
                ? -1 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - leaveStart); // from the close call on
        say("a member left: the others own every partition %d ms after it closed", leaveMs);
        result("leave_rebalance_ms", "%d", leaveMs);
        Process crashed = startChild(group);
        try {
            await(() -> members.stream().mapToInt(m -> m.owned).sum() <= partitions - share, Duration.ofSeconds(60));
            Thread.sleep(1_000); // its heartbeats run: the kill lands anywhere in a heartbeat interval
            long killedAt = System.nanoTime();
            crashed.destroyForcibly(); // SIGKILL: no leave
            long crashMs = await(() -> members.stream().mapToInt(m -> m.owned).sum() == partitions,
                    Duration.ofSeconds(120));
            crashMs = crashMs < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
            say("a member was killed: the others own every partition %d ms later (session %s)", crashMs,
                    "the server's default");
            result("crash_rebalance_ms", "%d", crashMs);
        } finally {
            crashed.destroyForcibly();
        }

        // 3. Commits: every member commits its partitions in a loop.
        members.forEach(m -> m.commitLoop = true);
        long c0 = members.stream().mapToLong(m -> m.commits.get()).sum();
        long p0 = members.stream().mapToLong(m -> m.partitionCommits.get()).sum();
        long commitStart = System.nanoTime();
        Thread.sleep(commitFor.toMillis());
        double commitSeconds = (System.nanoTime() - commitStart) / 1e9;
        long commits = members.stream().mapToLong(m -> m.commits.get()).sum() - c0;
        long partitionCommits = members.stream().mapToLong(m -> m.partitionCommits.get()).sum() - p0;
        say("%d members committed %.0f times a second (%.0f partition offsets a second)", members.size(),
                commits / commitSeconds, partitionCommits / commitSeconds);
        result("commit_members", "%d", members.size());
        result("commits_per_s", "%.0f", commits / commitSeconds);
        result("partition_commits_per_s", "%.0f", partitionCommits / commitSeconds);
        for (Member m : members) {
            m.stop();
        }
        client.groups().delete(group, true);
        return results;
    }

    private boolean caughtUp(Map<Integer, Long> progress) {
        return ends.entrySet().stream().allMatch(e -> e.getValue() == 0 || progress.getOrDefault(e.getKey(), 0L) >= e.getValue());
    }

    /** A member in a process of its own: the command line's group consumer, which the run then SIGKILLs. */
    private Process startChild(String group) throws java.io.IOException {
        List<String> command = List.of(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.strata.cli.StrataCli", "consume", topic,
                "--group", group, "--timeout-ms", "0", "--server", server);
        return new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }
}
