package io.strata.cli;

import io.strata.client.Groups;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata share-groups list|describe|delete}. Not runnable itself: picocli asks for a subcommand. */
@Command(name = "share-groups", mixinStandardHelpOptions = true, description = "Lists, describes and deletes share "
        + "groups (docs/queues.md): what each partition has done, holds and owes.",
        subcommands = {ShareGroupsCommand.ListShareGroups.class, ShareGroupsCommand.Describe.class,
                ShareGroupsCommand.Delete.class})
final class ShareGroupsCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Prints every share group that took "
            + "records: its partitions, its lag (records not yet accepted or archived) and the records its members "
            + "hold now.")
    static final class ListShareGroups implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            List<Groups.ShareListing> groups = StrataCli.client(spec).groups().listShare();
            int width = Math.max(5, groups.stream().mapToInt(g -> g.group().length()).max().orElse(0));
            String row = "%-" + width + "s  %10s  %12s  %10s%n";
            out.printf(row, "GROUP", "PARTITIONS", "LAG", "ACQUIRED");
            groups.forEach(g -> out.printf(row, g.group(), g.partitions(), g.lag(), g.acquired()));
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, description = {"Prints one row per partition the "
            + "group took records of: START (every offset before it is done), END of the log, LAG (records not yet "
            + "done), ACQUIRED (held by members now), AVAILABLE (released, waiting for their back-off or a member), "
            + "DLQ-PENDING (archived, dead-letter copy not yet written) and how long the oldest acquired record has "
            + "been held."})
    static final class Describe implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "GROUP", description = "The share group.")
        String group;

        @Override
        public Integer call() {
            List<Groups.SharePartitionState> ps = StrataCli.client(spec).groups().describeShare(group);
            PrintWriter out = spec.commandLine().getOut();
            out.printf("share group %s  partitions %d  total lag %d  acquired %d%n", group, ps.size(),
                    ps.stream().mapToLong(Groups.SharePartitionState::lag).sum(),
                    ps.stream().mapToLong(Groups.SharePartitionState::acquired).sum());
            int topicWidth = Math.max(5, ps.stream().mapToInt(p -> p.topic().length()).max().orElse(0));
            String row = "%-" + topicWidth + "s  %9s  %12s  %12s  %10s  %8s  %9s  %11s  %14s%n";
            out.printf(row, "TOPIC", "PARTITION", "START", "END", "LAG", "ACQUIRED", "AVAILABLE", "DLQ-PENDING",
                    "OLDEST-ACQUIRED");
            for (Groups.SharePartitionState p : ps) {
                out.printf(row, p.topic(), p.partition(), p.startOffset(), p.logEnd(), p.lag(), p.acquired(),
                        p.available(), p.deadLettering(), p.acquired() == 0 ? "-"
                                : String.format("%.1fs", p.oldestAcquiredAge().toMillis() / 1000.0));
            }
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = {"Forgets what the share group did in "
            + "every partition: a member that reads on afterwards starts it again from each partition's log start. "
            + "Refused while its members hold records or archived records await their dead-letter copy: stop its "
            + "members first."})
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "GROUP", description = "The share group.")
        String group;
        @Option(names = "--force", description = "Delete even while members hold records (their answers then apply "
                + "to nothing) or dead-letter copies are owed (they are not written).")
        boolean force;

        @Override
        public Integer call() {
            int partitions = StrataCli.client(spec).groups().deleteShare(group, force);
            spec.commandLine().getOut().printf("deleted share group %s (%d partition states)%n", group, partitions);
            return 0;
        }
    }
}
