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
                        + "and records without key to one partition per batch."})
final class ProduceCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Parameters(paramLabel = "TOPIC", description = "The topic to append to.")
    String topic;
    @Option(names = "--key", paramLabel = "KEY", description = "The key (UTF-8) of every record.")
    String key;
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
        Producer producer = StrataCli.client(spec).producer();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long sent = 0;
        BufferedReader lines = new BufferedReader(new InputStreamReader(StrataCli.stdin(spec), StandardCharsets.UTF_8));
        // Stop reading at the first failure: the rest would most likely fail the same way.
        for (String line = lines.readLine(); line != null && failure.get() == null; line = lines.readLine()) {
            byte[] value = line.getBytes(StandardCharsets.UTF_8);
            long due = delay != null ? System.currentTimeMillis() + delay.toMillis() : at;
            (due > 0 ? producer.sendDelayed(topic, partition, keyBytes, value, recordHeaders, due)
                    : producer.send(topic, partition, keyBytes, value, recordHeaders, 0))
                    .whenComplete((stored, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, e);
                        }
                    });
            sent++;
        }
        producer.close();
        if (failure.get() != null) {
            throw new CompletionException(failure.get());
        }
        if (delay != null || deliverAt != null) {
            spec.commandLine().getErr().printf("produced %d delayed records to %s (delivered %s)%n", sent, topic,
                    delay != null ? "in " + delay.toString().substring(2).toLowerCase(java.util.Locale.ROOT) : "at " + deliverAt);
        } else {
            spec.commandLine().getErr().printf("produced %d records to %s%n", sent, topic);
        }
        return 0;
    }
}
