package io.strata.cli;

import io.strata.client.Groups;
import java.io.PrintWriter;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata groups list|describe|alter|reset|delete}. Not runnable itself: picocli asks for a subcommand. */
@Command(name = "groups", mixinStandardHelpOptions = true,
        description = "Lists, describes (members and lag), alters (dead-letter topic, deliveries, lock, back-off), "
                + "resets and deletes consumer groups.",
        subcommands = {GroupsCommand.ListGroups.class, GroupsCommand.Describe.class, GroupsAlter.class,
                GroupsCommand.Reset.class, GroupsCommand.Delete.class})
final class GroupsCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Prints every group with its state "
            + "(EMPTY: no live members, STABLE, REBALANCING) and how many members it has.")
    static final class ListGroups implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        OutputOption output;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            var groups = StrataCli.client(spec).groups().list();
            if (output.json()) {
                out.println(Json.of(groups.stream().map(g -> {
                    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
                    m.put("group", g.group());
                    m.put("state", g.state());
                    m.put("members", g.members());
                    return m;
                }).toList()));
                return 0;
            }
            int width = Math.max(5, groups.stream().mapToInt(g -> g.group().length()).max().orElse(0));
            out.printf("%-" + width + "s  %-11s  %s%n", "GROUP", "STATE", "MEMBERS");
            groups.forEach(g -> out.printf("%-" + width + "s  %-11s  %d%n", g.group(), g.state(), g.members()));
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, description = {"Prints a group's state and members, "
            + "then one row per partition: its owner, the committed offset, the end offset and the lag (end minus "
            + "committed; - where nothing was committed)."})
    static final class Describe implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "GROUP", description = "The group.")
        String group;

        @picocli.CommandLine.Mixin
        OutputOption output;

        @Override
        public Integer call() {
            Groups.Description d = StrataCli.client(spec).groups().describe(group);
            PrintWriter out = spec.commandLine().getOut();
            if (output.json()) {
                out.println(Json.of(json(d)));
                return 0;
            }
            out.printf("group %s  state %s  generation %d  members %d  total lag %d%n", d.group(), d.state(),
                    d.generation(), d.members().size(),
                    d.partitions().stream().mapToLong(p -> Math.max(0, p.lag())).sum());
            if (!d.members().isEmpty()) {
                int w = Math.max(6, d.members().stream().mapToInt(m -> m.memberId().length()).max().orElse(0));
                out.printf("%-" + w + "s  %-21s  %s%n", "MEMBER", "CLIENT", "PARTITIONS");
                d.members().forEach(m -> out.printf("%-" + w + "s  %-21s  %d%n", m.memberId(), m.clientAddress(),
                        m.owned().size()));
                out.println();
            }
            int topicWidth = Math.max(5, d.partitions().stream().mapToInt(p -> p.topic().length()).max().orElse(0));
            int memberWidth = Math.max(6, d.partitions().stream().mapToInt(p -> p.owner().length()).max().orElse(0));
            String row = "%-" + topicWidth + "s  %9s  %-" + memberWidth + "s  %12s  %12s  %10s%n";
            out.printf(row, "TOPIC", "PARTITION", "MEMBER", "COMMITTED", "END", "LAG");
            for (Groups.PartitionLag p : d.partitions()) {
                out.printf(row, p.topic(), p.partition(), p.owner().isEmpty() ? "-" : p.owner(),
                        p.committed() < 0 ? "-" : Long.toString(p.committed()), p.end(),
                        p.lag() < 0 ? "-" : Long.toString(p.lag()));
            }
            return 0;
        }
    }

    @Command(name = "reset", mixinStandardHelpOptions = true, description = {"Moves a group's committed offsets, "
            + "for one topic (--topic), one partition of it (--partition), or every topic the group committed for. "
            + "Offsets are kept within each partition's stored range. Refused while the group has live members "
            + "(stop them first), unless --force."})
    static final class Reset implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "GROUP", description = "The group.")
        String group;
        @ArgGroup(exclusive = true, multiplicity = "1")
        To to;
        @Option(names = "--topic", paramLabel = "T", description = "Only this topic.")
        String topic;
        @Option(names = "--partition", paramLabel = "P", description = "Only this partition of --topic.")
        Integer partition;
        @Option(names = "--force", description = "Reset even while members are live.")
        boolean force;

        static final class To {
            @Option(names = "--to-earliest", required = true, description = "To each partition's log start.")
            boolean earliest;
            @Option(names = "--to-latest", required = true, description = "To each partition's end.")
            boolean latest;
            @Option(names = "--to-offset", paramLabel = "N", required = true, description = "To offset N.")
            Long offset;
            @Option(names = "--to-datetime", paramLabel = "ISO8601", required = true,
                    description = "To the first record at or after this time, e.g. 2026-11-25T08:00:00Z.")
            String datetime;
            @Option(names = "--shift-by", paramLabel = "N", required = true,
                    description = "Move the committed offsets by N (negative: back).")
            Long shiftBy;
        }

        @Override
        public Integer call() {
            if (partition != null && topic == null) {
                throw new ParameterException(spec.commandLine(), "--partition needs --topic");
            }
            Groups.ResetTo target;
            if (to.earliest) {
                target = new Groups.ResetTo.Earliest();
            } else if (to.latest) {
                target = new Groups.ResetTo.Latest();
            } else if (to.offset != null) {
                target = new Groups.ResetTo.Offset(to.offset);
            } else if (to.shiftBy != null) {
                target = new Groups.ResetTo.ShiftBy(to.shiftBy);
            } else {
                try {
                    target = new Groups.ResetTo.Timestamp(OffsetDateTime.parse(to.datetime).toInstant().toEpochMilli());
                } catch (DateTimeParseException e) {
                    throw new ParameterException(spec.commandLine(), "--to-datetime wants ISO 8601 with an offset, "
                            + "e.g. 2026-11-25T08:00:00Z, not '" + to.datetime + "'");
                }
            }
            Map<String, Long> offsets = StrataCli.client(spec).groups().reset(group, target, topic, partition, force);
            PrintWriter out = spec.commandLine().getOut();
            int w = Math.max(15, offsets.keySet().stream().mapToInt(String::length).max().orElse(0));
            out.printf("%-" + w + "s  %s%n", "TOPIC/PARTITION", "NEW-OFFSET");
            offsets.forEach((p, o) -> out.printf("%-" + w + "s  %d%n", p, o));
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes a group and its committed "
            + "offsets. Refused while it has live members, unless --force (which ends their sessions).")
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "GROUP", description = "The group.")
        String group;
        @Option(names = "--force", description = "Delete even while members are live.")
        boolean force;

        @Override
        public Integer call() {
            StrataCli.client(spec).groups().delete(group, force);
            spec.commandLine().getOut().printf("deleted group %s%n", group);
            return 0;
        }
    }

    /** A group as --output json prints it: lag and committed are null where nothing was committed. */
    static java.util.Map<String, Object> json(Groups.Description d) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("group", d.group());
        m.put("state", d.state());
        m.put("generation", d.generation());
        m.put("total_lag", d.partitions().stream().mapToLong(p -> Math.max(0, p.lag())).sum());
        m.put("members", d.members().stream().map(member -> {
            java.util.Map<String, Object> o = new java.util.LinkedHashMap<>();
            o.put("member_id", member.memberId());
            o.put("client_id", member.clientId());
            o.put("client_address", member.clientAddress());
            o.put("topics", member.topics());
            o.put("session_timeout_ms", member.sessionTimeoutMs());
            o.put("owned", member.owned());
            return o;
        }).toList());
        m.put("partitions", d.partitions().stream().map(p -> {
            java.util.Map<String, Object> o = new java.util.LinkedHashMap<>();
            o.put("topic", p.topic());
            o.put("partition", p.partition());
            o.put("owner", p.owner().isEmpty() ? null : p.owner());
            o.put("committed", p.committed() < 0 ? null : p.committed());
            o.put("log_start_offset", p.logStart());
            o.put("end_offset", p.end());
            o.put("lag", p.lag() < 0 ? null : p.lag());
            return o;
        }).toList());
        return m;
    }
}
