package io.strata.cli;

import io.grpc.Status;
import io.strata.client.Consumer;
import io.strata.client.ConsumerConfig;
import io.strata.client.ConsumerRecord;
import io.strata.client.RebalanceListener;
import io.strata.client.StrataException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code strata consume --group}: prints as a member of a consumer group (or, with {@code --exec}, runs a command
 * per record, trying a failing one again after the group's back-off and then sending it to the group's dead-letter
 * topic) and commits exactly what it printed
 * (never a record it fetched but did not print): every {@link #COMMIT_EVERY}, for a partition before it moves to
 * another member, and before it exits. A member killed between commits has its records since the last one
 * printed again by its successor (at least once). Ctrl-C or SIGTERM stop it as the end of its input would: it
 * commits what it printed and leaves the group, so its partitions move at once and nothing is printed twice.
 * A commit that no node could take (every node down at once) is tried again with the next one.
 */
final class GroupPrinter {
    static final Duration COMMIT_EVERY = Duration.ofSeconds(5);
    private static final Duration UNBOUNDED_POLL = Duration.ofSeconds(30);

    private final CommandSpec spec;
    private final String topic;
    private final String group;
    private final Long maxMessages;
    private final long timeoutMs;
    /** Partition → the offset after its last printed record, not yet committed. */
    private final Map<Integer, Long> printed = new HashMap<>();
    /**
     * With a filter: partition → the position up to which every record was printed or filtered out on the
     * node, as last taken into {@link #printed}; the position moving past it (records filtered out) is committed
     * too, so the group's lag counts what the filter left out as read.
     */
    private final Map<Integer, Long> passed = new HashMap<>();
    private Consumer consumer;
    /** Set by the shutdown hook: the loop ends, and the printer commits and leaves. */
    private volatile boolean stopping;
    /** How long the last commit is tried while no node can take it. */
    private static final Duration FINAL_COMMIT_TRIES = Duration.ofSeconds(10);
    /** How long a stop by signal waits for the last commit and the leave. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);

    private final ConsumerConfig config;
    private final RecordFormat format;
    /** With --exec: the command run per record instead of printing it, and where records it gives up on go. */
    private final RecordCommand exec;
    private io.strata.client.DeadLetterWriter deadLetters;
    /** A record could be neither handled nor dead-lettered: the printer stops without committing it. */
    private boolean failed;

    GroupPrinter(CommandSpec spec, String topic, String group, Long maxMessages, long timeoutMs, ConsumerConfig config,
                 RecordFormat format) {
        this(spec, topic, group, maxMessages, timeoutMs, config, format, null);
    }

    GroupPrinter(CommandSpec spec, String topic, String group, Long maxMessages, long timeoutMs, ConsumerConfig config,
                 RecordFormat format, RecordCommand exec) {
        this.exec = exec;
        this.spec = spec;
        this.config = config;
        this.format = format;
        this.topic = topic;
        this.group = group;
        this.maxMessages = maxMessages;
        this.timeoutMs = timeoutMs;
    }

    int run() {
        // Commits are this class's: auto-commit would count records fetched but not yet printed.
        consumer = StrataCli.client(spec).consumer(topic, config.withAutoCommitInterval(Duration.ZERO)
                .withClientId("strata-cli"));
        deadLetters = exec == null ? null : StrataCli.client(spec).deadLetters(group);
        java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);
        Thread stop = new Thread(() -> {
            stopping = true;
            consumer.wakeup();
            try {
                finished.await(STOP_GRACE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "strata-consume-stop");
        Runtime.getRuntime().addShutdownHook(stop);
        try {
            consumer.subscribe(group, new RebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<Integer> partitions) {
                    commit(partitions, false);
                    partitions.forEach(passed::remove);
                }

                @Override
                public void onPartitionsLost(Collection<Integer> partitions) {
                    partitions.forEach(printed::remove); // another member owns them: its commits count
                    partitions.forEach(passed::remove);
                }
            });
            loop();
            commitBeforeLeaving();
        } finally {
            try {
                consumer.close();
            } finally {
                spec.commandLine().getOut().flush();
                finished.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(stop);
                } catch (IllegalStateException e) {
                    // stopping by signal: the hook waits for this
                }
            }
        }
        return failed ? 1 : 0;
    }

    /**
     * Runs the command for the record until it exits 0, at most the group's max delivery attempts, waiting the
     * group's back-off between tries; a record that fails every time goes to the group's dead-letter topic. Answers
     * whether the record is done (handled, or its copy stored); false when it is not (stopping, or no dead-letter
     * topic to send it to: then {@link #failed}).
     */
    private boolean handle(ConsumerRecord r) {
        int status = 0;
        try {
            io.strata.client.Groups.Settings s = deadLetters.settings();
            Duration backoff = s.backoffInitial();
            for (int attempt = 1; ; attempt++) {
                if (stopping) {
                    return false; // not done: handled again by whoever has the partition next
                }
                status = exec.run(r, attempt);
                if (status == 0) {
                    return true;
                }
                if (stopping) {
                    return false; // the command was most likely stopped by the same signal: not its failure
                }
                if (attempt >= s.maxDeliveryAttempts()) {
                    break;
                }
                long until = System.nanoTime() + backoff.toNanos();
                while (System.nanoTime() < until) {
                    if (stopping) {
                        return false;
                    }
                    Thread.sleep(Math.max(1, Math.min(100, (until - System.nanoTime()) / 1_000_000)));
                }
                backoff = Duration.ofMillis(Math.min(s.backoffMax().toMillis(),
                        (long) (backoff.toMillis() * s.backoffMultiplier())));
            }
            String error = "--exec exited with status " + status;
            if (s.deadLetterTopic() == null || s.deadLetterTopic().isEmpty()) {
                spec.commandLine().getErr().printf("%s/%d@%d failed %d times (%s) and group %s has no dead-letter topic: "
                        + "stopping here (strata groups alter %s --dead-letter-topic TOPIC)%n", r.topic(), r.partition(),
                        r.offset(), s.maxDeliveryAttempts(), error, group, group);
                failed = true;
                return false;
            }
            deadLetters.write(r, s.maxDeliveryAttempts(), "delivery-attempts-exhausted", error)
                    .get(60, java.util.concurrent.TimeUnit.SECONDS);
            spec.commandLine().getErr().printf("%s/%d@%d failed %d times (%s): sent to %s%n", r.topic(), r.partition(),
                    r.offset(), s.maxDeliveryAttempts(), error, s.deadLetterTopic());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (java.io.IOException | java.util.concurrent.ExecutionException
                 | java.util.concurrent.TimeoutException | StrataException e) {
            spec.commandLine().getErr().printf("%s/%d@%d: %s: stopping here%n", r.topic(), r.partition(), r.offset(),
                    e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
            failed = true;
            return false;
        }
    }

    private void loop() {
        PrintWriter out = spec.commandLine().getOut();
        long count = 0;
        long idleSince = System.nanoTime();
        long lastCommit = System.nanoTime();
        while (!stopping && (maxMessages == null || count < maxMessages)) {
            Duration wait = UNBOUNDED_POLL;
            if (timeoutMs > 0) {
                wait = Duration.ofMillis(timeoutMs).minusNanos(System.nanoTime() - idleSince);
                if (wait.isNegative() || wait.isZero()) {
                    break;
                }
            }
            if (wait.compareTo(COMMIT_EVERY) > 0) {
                wait = COMMIT_EVERY;
            }
            List<ConsumerRecord> records;
            try {
                records = consumer.poll(wait);
            } catch (StrataException e) {
                if (!ConsumeLoops.goesOnAfter(e, spec.commandLine().getErr())) {
                    throw e;
                }
                continue; // the member's session and what it printed stand: it reads on once a node serves it
            }
            Map<Integer, Long> before = new HashMap<>(printed);
            int shown = 0;
            boolean halted = false;
            for (ConsumerRecord r : records) {
                if (exec != null) {
                    if (!handle(r)) {
                        halted = true; // not done, so not committed: this member or the next handles it again
                        break;
                    }
                } else {
                    out.println(format.line(r));
                }
                printed.put(r.partition(), r.offset() + 1);
                count++;
                shown++;
                if (maxMessages != null && count >= maxMessages) {
                    break;
                }
            }
            if (halted) {
                break;
            }
            if (config.filtered() && shown == records.size()) {
                // Everything the poll answered was printed: each position is past what was printed or filtered.
                // A partition new to this member is committed once where it stands (its fetch in this very poll
                // may have moved it past records filtered out).
                for (int p : consumer.assignment()) {
                    long position = consumer.position(p);
                    Long from = passed.get(p);
                    if (from == null || position > from) {
                        printed.merge(p, position, Math::max);
                        passed.put(p, position);
                    }
                }
            }
            out.flush();
            if (out.checkError()) {
                // The reader went away (a closed pipe): this batch may not have reached it, so it is not
                // committed; a member after this one prints it again.
                printed.clear();
                printed.putAll(before);
                break;
            }
            if (!records.isEmpty()) {
                idleSince = System.nanoTime();
            }
            if (System.nanoTime() - lastCommit >= COMMIT_EVERY.toNanos()) {
                commit(consumer.assignment(), true);
                lastCommit = System.nanoTime();
            }
        }
    }

    /**
     * Commits what was printed of these partitions; a partition revoked meanwhile is its successor's now. With
     * {@code retryLater}, offsets a failed commit did not store are kept for the next commit, unless the
     * session is gone (every partition is lost with it): a partition no longer owned fails the whole call, and
     * the listener drops that one's offsets before the next commit.
     */
    private StrataException commit(Collection<Integer> partitions, boolean retryLater) {
        Map<Integer, Long> offsets = new HashMap<>();
        for (int p : partitions) {
            Long next = printed.remove(p);
            if (next != null) {
                offsets.put(p, next);
            }
        }
        try {
            consumer.commitSync(offsets);
            return null;
        } catch (StrataException e) {
            if (retryLater && e.code() != Status.Code.NOT_FOUND) {
                offsets.forEach((p, next) -> printed.merge(p, next, Math::max));
            }
            spec.commandLine().getErr().println("could not commit " + offsets + ": " + e.getMessage());
            return e;
        }
    }

    /**
     * The last commit, before leaving: while no node can take it (every node restarting at once) it is tried
     * again for up to {@link #FINAL_COMMIT_TRIES}, so a clean stop leaves nothing printed uncommitted.
     */
    private void commitBeforeLeaving() {
        long until = System.nanoTime() + FINAL_COMMIT_TRIES.toNanos();
        StrataException failure = commit(consumer.assignment(), true);
        while (failure != null && failure.retryable() && System.nanoTime() < until) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            failure = commit(consumer.assignment(), true);
        }
    }
}
