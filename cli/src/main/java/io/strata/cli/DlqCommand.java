package io.strata.cli;

import io.strata.client.Consumer;
import io.strata.client.ConsumerConfig;
import io.strata.client.ConsumerRecord;
import io.strata.client.Producer;
import io.strata.client.RecordHeader;
import io.strata.client.StrataClient;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata dlq replay D}: dead-lettered records back to where they came from. */
@Command(name = "dlq", mixinStandardHelpOptions = true, description = "Works with dead-letter topics "
        + "(docs/queues.md).", subcommands = DlqCommand.Replay.class)
final class DlqCommand {
    /** Where a dead-letter copy's headers say it came from (written by the fetch nodes, see DeadLetters). */
    static final String PREFIX = "strata.dlq.";

    @Command(name = "replay", mixinStandardHelpOptions = true, description = {"Sends the records of dead-letter "
            + "topic D back to their source topic and partition (the strata.dlq.* headers say which), with their "
            + "key, value and original headers, then ends once D has nothing more.",
            "It reads D as consumer group --group and commits only what was sent and acknowledged, so a replay "
                    + "stopped part-way goes on where it stopped, and one run again sends only what was dead-lettered "
                    + "since."})
    static final class Replay implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "D", description = "The dead-letter topic.")
        String topic;
        @Option(names = "--group", paramLabel = "G", description = "The consumer group the replay reads D as "
                + "(default: strata-dlq-replay-D).")
        String group;
        @Option(names = "--to-topic", paramLabel = "T", description = "Send every record to T instead (by key, "
                + "or spread), not to its source.")
        String toTopic;
        @Option(names = "--timeout-ms", defaultValue = "3000", paramLabel = "MS",
                description = "End once nothing came for this long (default: ${DEFAULT-VALUE}).")
        long timeoutMs;

        @Override
        public Integer call() throws Exception {
            StrataClient client = StrataCli.client(spec);
            if (toTopic != null) {
                client.admin().topic(toTopic); // NOT_FOUND now, before anything is read and committed past
            }
            String as = group != null ? group : "strata-dlq-replay-" + topic;
            PrintWriter out = spec.commandLine().getOut();
            Map<String, Long> sentTo = new TreeMap<>();
            long skipped = 0;
            Map<String, Integer> partitionCounts = new HashMap<>();
            try (Consumer consumer = client.consumer(topic, ConsumerConfig.DEFAULT.withAutoCommitInterval(Duration.ZERO)
                    .withClientId("strata-dlq-replay")); Producer producer = client.producer()) {
                consumer.subscribe(as);
                long idleSince = System.nanoTime();
                while (System.nanoTime() - idleSince < timeoutMs * 1_000_000L) {
                    List<ConsumerRecord> records = consumer.poll(Duration.ofMillis(Math.min(timeoutMs, 1_000)));
                    if (records.isEmpty()) {
                        continue;
                    }
                    idleSince = System.nanoTime();
                    List<CompletableFuture<?>> sends = new ArrayList<>();
                    Map<Integer, Long> next = new HashMap<>();
                    for (ConsumerRecord r : records) {
                        next.put(r.partition(), r.offset() + 1);
                        String source = header(r, "topic");
                        String target = toTopic != null ? toTopic : source;
                        if (target == null) {
                            skipped++;
                            spec.commandLine().getErr().printf("%d@%d has no %stopic header: not a dead-letter copy; "
                                    + "passed over%n", r.partition(), r.offset(), PREFIX);
                            continue;
                        }
                        String reason = header(r, "reason");
                        if ("record-removed".equals(reason) || "record-too-large".equals(reason)) {
                            skipped++; // a copy without its record: nothing to send back
                            spec.commandLine().getErr().printf("%d@%d carries no record (%s): passed over%n",
                                    r.partition(), r.offset(), reason);
                            continue;
                        }
                        Integer partition = null;
                        String p = header(r, "partition");
                        int count = partitionCounts.computeIfAbsent(target, t -> {
                            try {
                                return client.admin().topic(t).partitions();
                            } catch (io.strata.client.StrataException e) {
                                if (e.code() != io.grpc.Status.Code.NOT_FOUND) {
                                    throw e;
                                }
                                return 0; // gone: its records are passed over (--to-topic sends them elsewhere)
                            }
                        });
                        if (count == 0) {
                            skipped++;
                            spec.commandLine().getErr().printf("%d@%d: topic %s does not exist; passed over "
                                    + "(--to-topic sends such records elsewhere)%n", r.partition(), r.offset(), target);
                            continue;
                        }
                        if (toTopic == null && p != null) {
                            int sourcePartition = Integer.parseInt(p);
                            partition = sourcePartition < count ? sourcePartition : null; // fewer now: by key
                        }
                        List<RecordHeader> original = r.headers().stream().filter(h -> !h.key().startsWith(PREFIX))
                                .toList();
                        sends.add(producer.send(target, partition, r.key(), r.value(), original, 0));
                        sentTo.merge(target, 1L, Long::sum);
                    }
                    producer.flush();
                    CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).join();
                    consumer.commitSync(next); // only once every record before is stored at its source
                }
            }
            long total = sentTo.values().stream().mapToLong(Long::longValue).sum();
            out.printf("replayed %d record(s) from %s%s%n", total, topic, total == 0 ? "" : ":");
            sentTo.forEach((t, n) -> out.printf("  %s  %d%n", t, n));
            if (skipped > 0) {
                out.printf("passed over %d record(s) (see above)%n", skipped);
            }
            return 0;
        }

        private static String header(ConsumerRecord r, String name) {
            for (RecordHeader h : r.headers()) {
                if (h.key().equals(PREFIX + name)) {
                    return new String(h.value(), StandardCharsets.UTF_8);
                }
            }
            return null;
        }
    }
}
