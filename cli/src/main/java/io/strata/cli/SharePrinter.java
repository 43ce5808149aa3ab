package io.strata.cli;

import io.strata.client.ShareConsumer;
import io.strata.client.ShareRecord;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code strata consume --share}: prints as a member of a share group and accepts each record once it is
 * printed, so that every record of the topic is printed once across all members running at once. Answers are
 * stored before the next poll; a member killed between the two has its unanswered records delivered to another
 * after their lock runs out (at least once). Ctrl-C or SIGTERM stop it as the end of its input would: it accepts
 * what it printed and gives back the rest it held, at once.
 */
final class SharePrinter {
    private static final Duration UNBOUNDED_POLL = Duration.ofSeconds(30);
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);

    private final CommandSpec spec;
    private final String topic;
    private final String group;
    private final Long maxMessages;
    private final long timeoutMs;
    private final RecordFormat format;
    private final RecordCommand exec;
    private final int parallel;
    private volatile boolean stopping;

    /** The consumer's settings: its filter (--tags, --filter) is the share group's. */
    private final io.strata.client.ConsumerConfig config;

    SharePrinter(CommandSpec spec, String topic, String group, Long maxMessages, long timeoutMs, RecordFormat format,
                 RecordCommand exec, int parallel, io.strata.client.ConsumerConfig config) {
        this.config = config;
        this.spec = spec;
        this.exec = exec;
        this.parallel = parallel;
        this.topic = topic;
        this.group = group;
        this.maxMessages = maxMessages;
        this.timeoutMs = timeoutMs;
        this.format = format;
    }

    int run() {
        ShareConsumer consumer = StrataCli.client(spec).consumer(topic, config).share(group);
        java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);
        Thread stop = new Thread(() -> {
            stopping = true;
            try {
                finished.await(STOP_GRACE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "strata-consume-stop");
        Runtime.getRuntime().addShutdownHook(stop);
        PrintWriter out = spec.commandLine().getOut();
        java.util.concurrent.ExecutorService commands = exec == null ? null
                : java.util.concurrent.Executors.newFixedThreadPool(parallel, r -> {
                    Thread t = new Thread(r, "strata-exec");
                    t.setDaemon(true);
                    return t;
                });
        try {
            long count = 0;
            long idleSince = System.nanoTime();
            while (!stopping && (maxMessages == null || count < maxMessages)) {
                Duration wait = UNBOUNDED_POLL;
                if (timeoutMs > 0) {
                    wait = Duration.ofMillis(timeoutMs).minusNanos(System.nanoTime() - idleSince);
                    if (wait.isNegative() || wait.isZero()) {
                        break;
                    }
                }
                // Short polls, so that a stop by signal is heard soon.
                List<ShareRecord> records;
                try {
                    records = consumer.poll(wait.compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1) : wait);
                } catch (io.strata.client.StrataException e) {
                    if (!ConsumeLoops.goesOnAfter(e, spec.commandLine().getErr())) {
                        throw e;
                    }
                    continue; // records it holds come back to the group if it cannot acknowledge them in time
                }
                if (exec != null) {
                    count += runCommands(consumer, records, commands, maxMessages == null ? Long.MAX_VALUE
                            : maxMessages - count);
                    if (!records.isEmpty()) {
                        idleSince = System.nanoTime();
                        consumer.acknowledge();
                    }
                    continue;
                }
                List<ShareRecord> shown = new java.util.ArrayList<>();
                for (ShareRecord r : records) {
                    if (maxMessages != null && count >= maxMessages) {
                        break; // given back by close()
                    }
                    out.println(line(r));
                    count++;
                    shown.add(r);
                }
                out.flush();
                if (out.checkError()) {
                    break; // the reader went away: what it may not have seen is given back by close()
                }
                shown.forEach(consumer::accept); // accepted only once printed
                if (!records.isEmpty()) {
                    idleSince = System.nanoTime();
                    consumer.acknowledge();
                }
            }
        } finally {
            if (commands != null) {
                commands.shutdownNow();
            }
            try {
                consumer.close();
                if (consumer.notHeldLately() > 0) {
                    spec.commandLine().getErr().printf("%d records were answered after their lock ran out (another "
                            + "member may have taken them): those answers did not count%n", consumer.notHeldLately());
                }
            } finally {
                out.flush();
                finished.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(stop);
                } catch (IllegalStateException e) {
                    // stopping by signal: the hook waits for this
                }
            }
        }
        return 0;
    }

    /**
     * Runs the command for up to {@code most} of the records, {@code parallel} at once, and answers each by its
     * exit status once all finished (the consumer is this thread's); the rest are given back by close().
     */
    private long runCommands(ShareConsumer consumer, List<ShareRecord> records,
                             java.util.concurrent.ExecutorService commands, long most) {
        List<ShareRecord> taken = records.subList(0, (int) Math.min(records.size(), most));
        List<java.util.concurrent.Future<Integer>> runs = new java.util.ArrayList<>();
        for (ShareRecord r : taken) {
            runs.add(commands.submit(() -> exec.run(r)));
        }
        for (int i = 0; i < taken.size(); i++) {
            String error;
            try {
                int status = runs.get(i).get();
                error = status == 0 ? null : "--exec exited with status " + status;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return i; // stopping: what did not finish is given back by close()
            } catch (java.util.concurrent.ExecutionException e) {
                error = "cannot run --exec: " + e.getCause().getMessage();
                spec.commandLine().getErr().println(error + " (" + taken.get(i).partition() + "@"
                        + taken.get(i).offset() + ")");
            }
            if (error == null) {
                consumer.accept(taken.get(i));
            } else {
                consumer.release(taken.get(i), error); // the group's back-off; archived after the last delivery
            }
        }
        return taken.size();
    }

    private String line(ShareRecord r) {
        return format.line(r);
    }
}
