package io.strata.cli;

import io.strata.client.Groups;
import io.strata.client.StrataClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata groups alter G ...}: a group's own settings, for share and classic groups alike. */
@Command(name = "alter", mixinStandardHelpOptions = true, description = {"Sets what a group decides by (share "
        + "groups: docs/queues.md), over the nodes' defaults, in force on every node within a second; then prints "
        + "the settings in force. Without options it only prints them.",
        "A dead-letter topic that does not exist is created (one partition)."})
final class GroupsAlter implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Parameters(paramLabel = "GROUP", description = "The group.")
    String group;
    @Option(names = "--dead-letter-topic", paramLabel = "D", description = "Copy records the group gives up on "
            + "(rejected, or out of deliveries) to topic D, with headers saying where they came from and why; "
            + "\"\" for none.")
    String deadLetterTopic;
    @Option(names = "--max-delivery-attempts", paramLabel = "N", description = "Deliveries after which a record "
            + "that still fails is archived (dead-lettered): 1 to 1000.")
    Integer maxDeliveryAttempts;
    @Option(names = "--lock-duration", paramLabel = "D", converter = BenchCommand.DurationConverter.class,
            description = "How long a member holds what it took before others may have it: 1s to 1h.")
    Duration lock;
    @Option(names = "--backoff", paramLabel = "FIRST,MULTIPLIER,MOST", description = "The wait before a failed "
            + "record is delivered again: FIRST, multiplied by MULTIPLIER for each further failure, at most MOST "
            + "(e.g. 1s,2,10m).")
    String backoff;
    @Option(names = "--reset", description = "Every setting not given here goes back to the nodes' default.")
    boolean reset;

    @Override
    public Integer call() {
        StrataClient client = StrataCli.client(spec);
        Duration first = null;
        Double multiplier = null;
        Duration most = null;
        if (backoff != null) {
            String[] parts = backoff.split(",");
            if (parts.length != 3) {
                throw new ParameterException(spec.commandLine(), "--backoff is FIRST,MULTIPLIER,MOST, e.g. 1s,2,10m");
            }
            BenchCommand.DurationConverter durations = new BenchCommand.DurationConverter();
            try {
                first = durations.convert(parts[0]);
                multiplier = Double.parseDouble(parts[1].trim());
                most = durations.convert(parts[2]);
            } catch (RuntimeException e) {
                throw new ParameterException(spec.commandLine(), "--backoff is FIRST,MULTIPLIER,MOST, e.g. 1s,2,10m: "
                        + e.getMessage());
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        Groups.Settings s;
        if (deadLetterTopic == null && maxDeliveryAttempts == null && lock == null && backoff == null && !reset) {
            s = client.groups().settings(group);
        } else {
            if (deadLetterTopic != null && !deadLetterTopic.isEmpty()) {
                try {
                    client.admin().topic(deadLetterTopic);
                } catch (io.strata.client.StrataException e) {
                    if (e.code() != io.grpc.Status.Code.NOT_FOUND) {
                        throw e;
                    }
                    client.admin().createTopic(deadLetterTopic, 1);
                    out.printf("created topic %s (1 partition) for the group's dead letters%n", deadLetterTopic);
                }
            }
            s = client.groups().alter(group, new Groups.SettingsChange(deadLetterTopic, maxDeliveryAttempts, lock,
                    first, multiplier, most, reset));
        }
        print(out, s);
        return 0;
    }

    static void print(PrintWriter out, Groups.Settings s) {
        String dflt = " (default)";
        out.printf("group %s%n", s.group());
        out.printf("  dead-letter topic      %s%n", s.deadLetterTopic().isEmpty() ? "-" : s.deadLetterTopic());
        out.printf("  max delivery attempts  %d%s%n", s.maxDeliveryAttempts(),
                s.defaults().contains("max_delivery_attempts") ? dflt : "");
        out.printf("  lock duration          %s%s%n", text(s.lock()), s.defaults().contains("lock_ms") ? dflt : "");
        out.printf("  back-off               %s, x%s, at most %s%s%n", text(s.backoffInitial()),
                new java.math.BigDecimal(Double.toString(s.backoffMultiplier())).stripTrailingZeros().toPlainString(),
                text(s.backoffMax()), s.defaults().contains("backoff") ? dflt : "");
    }

    private static String text(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0 && ms > 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms > 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1_000 == 0) {
            return ms / 1_000 + "s";
        }
        return ms + "ms";
    }
}
