package io.strata.cli;

import io.strata.client.OffsetQuery;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata offsets}: one offset look-up. */
@Command(name = "offsets", mixinStandardHelpOptions = true,
        description = "Prints one offset of a partition: its log start, its end (the next offset to be "
                + "assigned), or the first offset whose record is at or after a time (the end when none is).")
final class OffsetsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Parameters(paramLabel = "TOPIC", description = "The topic.")
    String topic;
    @Option(names = "--partition", paramLabel = "P", required = true, description = "The partition.")
    int partition;
    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;
    @Option(names = "--isolation-level", paramLabel = "LEVEL", defaultValue = "read_uncommitted",
            description = "With --latest: read_uncommitted (the default) prints the end; read_committed the last "
                    + "stable offset, where read-committed consumers stop (the first record of a transaction still "
                    + "open).")
    ConsumeCommand.IsolationLevel isolationLevel;

    static final class Which {
        @Option(names = "--earliest", required = true, description = "The log start offset.")
        boolean earliest;
        @Option(names = "--latest", required = true, description = "The end offset (see --isolation-level).")
        boolean latest;
        @Option(names = "--timestamp", paramLabel = "MS", required = true,
                description = "The first offset whose record timestamp (epoch ms) is at or after MS.")
        Long timestampMs;

        OffsetQuery query() {
            if (timestampMs != null) {
                return OffsetQuery.atTimestamp(timestampMs);
            }
            return earliest ? OffsetQuery.earliest() : OffsetQuery.latest();
        }
    }

    @Override
    public Integer call() {
        long offset = StrataCli.client(spec).admin().listOffsets(topic, partition, which.query(),
                isolationLevel == ConsumeCommand.IsolationLevel.read_committed).offset();
        spec.commandLine().getOut().println(offset);
        return 0;
    }
}
