package io.strata.cli;

import io.strata.client.PartitionInfo;
import io.strata.client.TopicAlteration;
import io.strata.client.TopicInfo;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata topics create|list|describe|alter|delete|delete-records}. Not runnable itself: picocli asks for a subcommand. */
@Command(name = "topics", mixinStandardHelpOptions = true,
        description = "Creates, lists, describes, alters and deletes topics.",
        subcommands = {TopicsCommand.Create.class, TopicsCommand.ListTopics.class, TopicsCommand.Describe.class,
                TopicsCommand.Alter.class, TopicsCommand.Delete.class, TopicsCommand.DeleteRecords.class})
final class TopicsCommand {

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates a topic.")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "NAME", description = "The topic's name.")
        String name;
        @Option(names = "--partitions", required = true, paramLabel = "N", description = "How many partitions.")
        int partitions;
        @Option(names = "--retention-ms", paramLabel = "MS", defaultValue = "-1",
                description = "Delete records older than this; -1 (the default) keeps them forever.")
        long retentionMs;
        @Option(names = "--retention-bytes", paramLabel = "B", defaultValue = "-1",
                description = "Delete a partition's oldest records beyond this size; -1 (the default): no limit.")
        long retentionBytes;
        @Option(names = "--cleanup-policy", paramLabel = "POLICY", defaultValue = "delete",
                description = "delete (the default: retention deletes old records), compact (the latest record "
                        + "per key is kept) or compact,delete (both).")
        String cleanupPolicy;
        @Option(names = "--delete-retention-ms", paramLabel = "MS", defaultValue = "86400000",
                description = "How long a compacted topic keeps a key's tombstone (an empty value); default a day.")
        long deleteRetentionMs;

        @Override
        public Integer call() {
            TopicInfo topic = StrataCli.client(spec).admin().createTopic(name, partitions, retentionMs, retentionBytes,
                    cleanupPolicy, deleteRetentionMs);
            spec.commandLine().getOut().printf("created topic %s with %d partitions%n", topic.name(), topic.partitions());
            return 0;
        }
    }

    @Command(name = "alter", mixinStandardHelpOptions = true,
            description = "Changes a live topic's retention or cleanup policy, or grows its partition count; what "
                    + "is not given stays. Records that a new retention expires leave within one compaction interval.")
    static final class Alter implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "NAME", description = "The topic's name.")
        String name;
        @Option(names = "--retention-ms", paramLabel = "MS", description = "Delete records older than this; -1: keep.")
        Long retentionMs;
        @Option(names = "--retention-bytes", paramLabel = "B",
                description = "Delete a partition's oldest records beyond this size; -1: no limit.")
        Long retentionBytes;
        @Option(names = "--cleanup-policy", paramLabel = "POLICY", description = "delete, compact or compact,delete.")
        String cleanupPolicy;
        @Option(names = "--delete-retention-ms", paramLabel = "MS",
                description = "How long a compacted topic keeps tombstones.")
        Long deleteRetentionMs;
        @Option(names = "--partitions", paramLabel = "N",
                description = "Grow the topic to N partitions (never fewer); keyed records written before stay "
                        + "where they are, consumer groups take the new partitions in.")
        Integer partitions;

        @Override
        public Integer call() {
            if (retentionMs == null && retentionBytes == null && cleanupPolicy == null && deleteRetentionMs == null
                    && partitions == null) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "nothing to alter: give "
                        + "--retention-ms, --retention-bytes, --cleanup-policy, --delete-retention-ms or --partitions");
            }
            TopicInfo topic = StrataCli.client(spec).admin().alterTopic(name,
                    new TopicAlteration(retentionMs, retentionBytes, cleanupPolicy, deleteRetentionMs, partitions));
            spec.commandLine().getOut().printf("altered topic %s: partitions %d, retention-ms %d, retention-bytes %d, "
                            + "cleanup-policy %s, delete-retention-ms %d%n", topic.name(), topic.partitions(),
                    topic.retentionMs(), topic.retentionBytes(), topic.cleanupPolicy(), topic.deleteRetentionMs());
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Prints every topic's name, one a line.")
    static final class ListTopics implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @picocli.CommandLine.Mixin
        OutputOption output;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            List<TopicInfo> topics = StrataCli.client(spec).admin().listTopics();
            if (output.json()) {
                out.println(Json.of(topics.stream().map(t -> json(t, false)).toList()));
            } else {
                topics.forEach(t -> out.println(t.name()));
            }
            return 0;
        }
    }

    /** A topic as --output json prints it; with its partitions' offsets when {@code partitions}. */
    static java.util.Map<String, Object> json(TopicInfo t, boolean partitions) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("name", t.name());
        m.put("topic_id", t.topicId());
        m.put("partitions", t.partitions());
        m.put("retention_ms", t.retentionMs());
        m.put("retention_bytes", t.retentionBytes());
        m.put("cleanup_policy", t.cleanupPolicy());
        m.put("delete_retention_ms", t.deleteRetentionMs());
        m.put("created_ms", t.createdAtMs());
        if (partitions) {
            m.put("stored_bytes", t.storedBytes());
            m.put("stored_bytes_measured_ms", t.storedBytesMeasuredAtMs());
            m.put("partition_offsets", t.partitionDetails().stream().map(p -> {
                java.util.Map<String, Object> o = new java.util.LinkedHashMap<>();
                o.put("partition", p.partition());
                o.put("log_start_offset", p.logStartOffset());
                o.put("end_offset", p.endOffset());
                o.put("stored_bytes", p.storedBytes());
                return o;
            }).toList());
        }
        return m;
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "Prints a topic's settings, and each partition's log-start and end offsets and the bytes it "
                    + "stores (as compaction last measured them).")
    static final class Describe implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "NAME", description = "The topic's name.")
        String name;
        @picocli.CommandLine.Mixin
        OutputOption output;

        @Override
        public Integer call() {
            TopicInfo topic = StrataCli.client(spec).admin().describeTopic(name);
            PrintWriter out = spec.commandLine().getOut();
            if (output.json()) {
                out.println(Json.of(json(topic, true)));
                return 0;
            }
            out.printf("topic %s  id %d  partitions %d  retention-ms %d  retention-bytes %d  cleanup-policy %s%s"
                            + "  created %s%n", topic.name(), topic.topicId(), topic.partitions(), topic.retentionMs(),
                    topic.retentionBytes(), topic.cleanupPolicy(), topic.cleanupPolicy().startsWith("compact")
                            ? "  delete-retention-ms " + topic.deleteRetentionMs() : "",
                    Instant.ofEpochMilli(topic.createdAtMs()));
            out.println(topic.storedBytesMeasuredAtMs() > 0
                    ? "stored " + topic.storedBytes() + " bytes, as compaction measured at "
                            + Instant.ofEpochMilli(topic.storedBytesMeasuredAtMs())
                    : "stored bytes not measured yet (compaction measures them on its passes)");
            out.printf("%-10s %-15s %-15s %s%n", "PARTITION", "LOG-START", "END", "STORED-BYTES");
            for (PartitionInfo p : topic.partitionDetails()) {
                out.printf("%-10d %-15d %-15d %d%n", p.partition(), p.logStartOffset(), p.endOffset(), p.storedBytes());
            }
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes a topic and its records: "
            + "the topic is gone at once, its records leave the index within one compaction interval and storage "
            + "after the garbage grace period.")
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "NAME", description = "The topic's name.")
        String name;

        @Override
        public Integer call() {
            StrataCli.client(spec).admin().deleteTopic(name);
            spec.commandLine().getOut().printf("deleted topic %s%n", name);
            return 0;
        }
    }

    @Command(name = "delete-records", mixinStandardHelpOptions = true,
            description = "Deletes a topic's records before an offset (Kafka's DeleteRecords): the partitions' log "
                    + "starts move there at once, and compaction removes the records within a pass. A start already "
                    + "further stays.")
    static final class DeleteRecords implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "NAME", description = "The topic's name.")
        String name;
        @Option(names = "--before", required = true, paramLabel = "OFFSET|end",
                description = "The partitions' new log start; 'end' for each partition's end (every record so far).")
        String before;
        @Option(names = "--partition", paramLabel = "P", description = "A partition (repeatable); default: every one.")
        List<Integer> partitions;
        @picocli.CommandLine.Mixin
        OutputOption output;

        @Override
        public Integer call() {
            long offset;
            if ("end".equals(before)) {
                offset = io.strata.client.Admin.END;
            } else {
                try {
                    offset = Long.parseLong(before);
                } catch (NumberFormatException e) {
                    offset = -2;
                }
                if (offset < 0) {
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                            "--before takes an offset (0 or more) or 'end', not '" + before + "'");
                }
            }
            io.strata.client.Admin admin = StrataCli.client(spec).admin();
            List<Integer> chosen = partitions;
            if (chosen == null || chosen.isEmpty()) {
                int count = admin.topic(name).partitions();
                chosen = java.util.stream.IntStream.range(0, count).boxed().toList();
            }
            java.util.Map<Integer, Long> asked = new java.util.LinkedHashMap<>();
            for (int p : chosen) {
                asked.put(p, offset);
            }
            java.util.Map<Integer, Long> starts = admin.deleteRecords(name, asked);
            PrintWriter out = spec.commandLine().getOut();
            if (output.json()) {
                out.println(Json.of(starts.entrySet().stream().map(e -> {
                    java.util.Map<String, Object> o = new java.util.LinkedHashMap<>();
                    o.put("partition", e.getKey());
                    o.put("log_start_offset", e.getValue());
                    return o;
                }).toList()));
                return 0;
            }
            out.printf("%-10s %s%n", "PARTITION", "LOG-START");
            starts.forEach((p, start) -> out.printf("%-10d %d%n", p, start));
            return 0;
        }
    }
}
