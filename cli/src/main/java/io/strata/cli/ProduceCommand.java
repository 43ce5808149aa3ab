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
        Producer producer = StrataCli.client(spec).producer();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long sent = 0;
        BufferedReader lines = new BufferedReader(new InputStreamReader(StrataCli.stdin(spec), StandardCharsets.UTF_8));
        // Stop reading at the first failure: the rest would most likely fail the same way.
        for (String line = lines.readLine(); line != null && failure.get() == null; line = lines.readLine()) {
            producer.send(topic, partition, keyBytes, line.getBytes(StandardCharsets.UTF_8), recordHeaders, 0)
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
        spec.commandLine().getErr().printf("produced %d records to %s%n", sent, topic);
        return 0;
    }
}
