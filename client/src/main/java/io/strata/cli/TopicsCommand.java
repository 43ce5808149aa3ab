package io.strata.cli;

import io.strata.client.PartitionInfo;
import io.strata.client.TopicInfo;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata topics create|list|describe|delete}. Not runnable itself: picocli asks for a subcommand. */
@Command(name = "topics", mixinStandardHelpOptions = true, description = "Creates, lists, describes and deletes topics.",
        subcommands = {TopicsCommand.Create.class, TopicsCommand.ListTopics.class, TopicsCommand.Describe.class,
                TopicsCommand.Delete.class})
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

        @Override
        public Integer call() {
            TopicInfo topic = StrataCli.client(spec).admin().createTopic(name, partitions, retentionMs, retentionBytes);
            spec.commandLine().getOut().printf("created topic %s with %d partitions%n", topic.name(), topic.partitions());
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Prints every topic's name, one a line.")
    static final class ListTopics implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            StrataCli.client(spec).admin().listTopics().forEach(t -> out.println(t.name()));
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "Prints a topic's settings and each partition's log-start and end offsets.")
    static final class Describe implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "NAME", description = "The topic's name.")
        String name;

        @Override
        public Integer call() {
            TopicInfo topic = StrataCli.client(spec).admin().describeTopic(name);
            PrintWriter out = spec.commandLine().getOut();
            out.printf("topic %s  id %d  partitions %d  retention-ms %d  retention-bytes %d  created %s%n",
                    topic.name(), topic.topicId(), topic.partitions(), topic.retentionMs(), topic.retentionBytes(),
                    Instant.ofEpochMilli(topic.createdAtMs()));
            out.printf("%-10s %-15s %s%n", "PARTITION", "LOG-START", "END");
            for (PartitionInfo p : topic.partitionDetails()) {
                out.printf("%-10d %-15d %d%n", p.partition(), p.logStartOffset(), p.endOffset());
            }
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes a topic and its records.")
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
}
