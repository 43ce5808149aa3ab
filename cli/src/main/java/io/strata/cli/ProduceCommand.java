package io.strata.cli;

import io.strata.client.Producer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata produce}: stdin lines become records; success is silent on stdout. */
@Command(name = "produce", mixinStandardHelpOptions = true,
        description = {"Sends each line of standard input (UTF-8, without its line end) as one record, and waits "
                + "until all are stored. Prints the count to stderr on success.",
                "Without --partition, keyed records go to murmur2(key) mod partitions (as Kafka), "
                        + "and records without key to one partition per batch.",
                "With --transactional-id, the whole input is one transaction, committed at its end (or aborted, "
                        + "with --abort): read-committed consumers see all of its records at once, or none.",
                "With --half-group, each line is a half message no consumer sees until it is committed by the id "
                        + "printed for it (strata transactions half commit|rollback ID); one left undecided is "
                        + "checked with a live producer of the group (strata transactions half answer)."})
final class ProduceCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Parameters(paramLabel = "TOPIC", arity = "0..1", description = "The topic to append to (with "
            + "--topic-from-input: of lines that name none).")
    String topic;
    @Option(names = "--transactional-id", paramLabel = "ID", description = "Send the whole input as one transaction "
            + "of this transactional id, committed once every record is stored; a producer of the id still running "
            + "is fenced.")
    String transactionalId;
    @Option(names = "--abort", description = "With --transactional-id: abort the transaction at the end of input "
            + "instead of committing it (its records stay stored, and read-committed consumers never see them).")
    boolean abort;
    @Option(names = "--transaction-timeout", paramLabel = "D", converter = BenchCommand.DurationConverter.class,
            defaultValue = "60s", description = "With --transactional-id: the cluster aborts the transaction if it is "
            + "not committed within D (default 60s).")
    java.time.Duration transactionTimeout;
    @Option(names = "--half-group", paramLabel = "GROUP", description = "Send each line as a half message of "
            + "producer group GROUP and print its id, one per line, once all are stored.")
    String halfGroup;
    @Option(names = "--topic-from-input", description = "Each line is TOPIC<TAB>VALUE: its record goes to that "
            + "topic (a line without a tab to TOPIC).")
    boolean topicFromInput;
    @Option(names = "--key", paramLabel = "KEY", description = "The key (UTF-8) of every record.")
    String key;
    @Option(names = "--key-separator", paramLabel = "SEP", description = "Each line is KEY<SEP>VALUE (e.g. "
            + "--key-separator $'\\t' for key<TAB>value): its record's key is what stands before the first SEP. A "
            + "line without SEP is an error (nothing after it is sent).")
    String keySeparator;
    @Option(names = "--partition", paramLabel = "P", description = "Send every record to this partition.")
    Integer partition;
    @Option(names = "--header", paramLabel = "K=V", description = "A header of every record (repeatable); the value "
            + "is UTF-8 text, what filters (strata consume --filter) compare.")
    java.util.List<String> headers = new java.util.ArrayList<>();
    @Option(names = "--tag", paramLabel = "TAG", description = "Tag every record (its `tag` header), for consumers "
            + "that read only some tags (strata consume --tags).")
    String tag;
    @Option(names = "--delay", paramLabel = "D", converter = BenchCommand.DurationConverter.class,
            description = "Deliver each record this long after it is sent (e.g. 30s, 10m, 2h; up to a year and a day): "
                    + "no consumer sees it before.")
    java.time.Duration delay;
    @Option(names = "--deliver-at", paramLabel = "TIME", description = "Deliver every record at TIME, an ISO-8601 "
            + "instant such as 2026-12-01T08:00:00Z: no consumer sees it before.")
    String deliverAt;

    @Override
    public Integer call() throws IOException {
        byte[] keyBytes = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
        java.util.List<io.strata.client.RecordHeader> recordHeaders = new java.util.ArrayList<>();
        for (String h : headers) {
            int eq = h.indexOf('=');
            if (eq <= 0) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--header takes KEY=VALUE, not '"
                        + h + "'");
            }
            recordHeaders.add(new io.strata.client.RecordHeader(h.substring(0, eq),
                    h.substring(eq + 1).getBytes(StandardCharsets.UTF_8)));
        }
        if (tag != null) {
            if (tag.isEmpty()) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--tag takes a tag, not nothing");
            }
            recordHeaders.add(new io.strata.client.RecordHeader("tag", tag.getBytes(StandardCharsets.UTF_8)));
        }
        if (delay != null && deliverAt != null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--delay and --deliver-at: one or the "
                    + "other");
        }
        if (delay != null && delay.isNegative()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--delay cannot be negative");
        }
        long at = 0;
        if (deliverAt != null) {
            try {
                at = java.time.Instant.parse(deliverAt).toEpochMilli();
            } catch (java.time.format.DateTimeParseException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--deliver-at takes an ISO-8601 "
                        + "instant such as 2026-12-01T08:00:00Z, not '" + deliverAt + "'");
            }
        }
        if (keySeparator != null && (keySeparator.isEmpty() || key != null)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), keySeparator.isEmpty()
                    ? "--key-separator takes a separator, not nothing" : "--key and --key-separator: one or the other");
        }
        if (topic == null && !topicFromInput) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name the TOPIC to append to (or "
                    + "give --topic-from-input)");
        }
        if (abort && transactionalId == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--abort ends a transaction: give "
                    + "--transactional-id");
        }
        if (transactionalId != null && (delay != null || deliverAt != null)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "delayed records are not sent in "
                    + "transactions: drop --delay/--deliver-at or --transactional-id");
        }
        if (halfGroup != null && (transactionalId != null || delay != null || deliverAt != null)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "half messages are sent on their own: "
                    + "drop --transactional-id, --delay and --deliver-at, or --half-group");
        }
        if (halfGroup != null) {
            String problem = io.strata.format.HalfMessages.groupProblem(halfGroup);
            if (problem != null) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--half-group: " + problem);
            }
        }
        java.util.List<java.util.concurrent.CompletableFuture<io.strata.client.RecordMetadata>> halves =
                new java.util.ArrayList<>();
        Producer producer = transactionalId == null ? StrataCli.client(spec).producer()
                : StrataCli.client(spec).transactionalProducer(transactionalId,
                io.strata.client.ProducerConfig.DEFAULT, transactionTimeout);
        if (transactionalId != null) {
            producer.beginTransaction();
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long sent = 0;
        java.util.Set<String> topics = new java.util.TreeSet<>();
        BufferedReader lines = new BufferedReader(new InputStreamReader(StrataCli.stdin(spec), StandardCharsets.UTF_8));
        // Stop reading at the first failure: the rest would most likely fail the same way.
        for (String line = lines.readLine(); line != null && failure.get() == null; line = lines.readLine()) {
            String to = topic;
            int tab = topicFromInput ? line.indexOf('\t') : -1;
            if (tab >= 0) {
                to = line.substring(0, tab);
                line = line.substring(tab + 1);
            } else if (to == null) {
                failure.compareAndSet(null, new IllegalArgumentException("line " + (sent + 1) + " names no topic "
                        + "(TOPIC<TAB>VALUE) and no TOPIC was given"));
                break;
            }
            byte[] recordKey = keyBytes;
            if (keySeparator != null) {
                int split = line.indexOf(keySeparator);
                if (split < 0) {
                    failure.compareAndSet(null, new IllegalArgumentException("line " + (sent + 1) + " has no key "
                            + "separator '" + keySeparator + "' (KEY" + keySeparator + "VALUE)"));
                    break;
                }
                recordKey = line.substring(0, split).getBytes(StandardCharsets.UTF_8);
                line = line.substring(split + keySeparator.length());
            }
            topics.add(to);
            byte[] value = line.getBytes(StandardCharsets.UTF_8);
            long due = delay != null ? System.currentTimeMillis() + delay.toMillis() : at;
            var sending = halfGroup != null
                    ? producer.sendHalf(to, partition, recordKey, value, recordHeaders, halfGroup)
                    : due > 0 ? producer.sendDelayed(to, partition, recordKey, value, recordHeaders, due)
                    : producer.send(to, partition, recordKey, value, recordHeaders, 0);
            if (halfGroup != null) {
                halves.add(sending);
            }
            sending.whenComplete((stored, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, e);
                        }
                    });
            sent++;
        }
        if (transactionalId != null) {
            boolean commit = !abort && failure.get() == null;
            try {
                if (commit) {
                    producer.commitTransaction();
                } else {
                    producer.abortTransaction();
                }
            } catch (RuntimeException e) {
                failure.compareAndSet(null, e);
            }
            producer.close();
            if (failure.get() != null) {
                throw new CompletionException(failure.get());
            }
            spec.commandLine().getErr().printf("produced %d records to %s in a transaction of %s, %s%n", sent,
                    String.join(", ", topics), transactionalId, commit ? "committed" : "aborted");
            return 0;
        }
        producer.close();
        if (failure.get() != null) {
            throw new CompletionException(failure.get());
        }
        if (halfGroup != null) {
            halves.forEach(h -> spec.commandLine().getOut().println(h.join().halfId()));
            spec.commandLine().getErr().printf("produced %d half messages of group %s to %s: commit or roll back each by "
                    + "its id (strata transactions half commit|rollback ID)%n", sent, halfGroup, String.join(", ", topics));
        } else if (delay != null || deliverAt != null) {
            spec.commandLine().getErr().printf("produced %d delayed records to %s (delivered %s)%n", sent, topic,
                    delay != null ? "in " + delay.toString().substring(2).toLowerCase(java.util.Locale.ROOT) : "at " + deliverAt);
        } else {
            spec.commandLine().getErr().printf("produced %d records to %s%n", sent, String.join(", ", topics));
        }
        return 0;
    }
}
