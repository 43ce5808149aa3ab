package io.strata.cli;

import io.strata.client.CheckBackListener;
import io.strata.client.HalfProducer;
import io.strata.client.StrataClient;
import io.strata.client.Transactions;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata transactions half list|commit|rollback|answer}: half messages (docs/transactions.md). */
@Command(name = "half", mixinStandardHelpOptions = true, description = "Half messages: list them, commit or roll "
        + "them back by id, or answer the cluster's checks of a producer group's undecided ones.",
        subcommands = {HalfCommand.ListHalf.class, HalfCommand.Commit.class, HalfCommand.Rollback.class,
                HalfCommand.Answer.class})
final class HalfCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Prints the half messages not yet "
            + "delivered or dropped, and those settled in the last ten minutes.")
    static final class ListHalf implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--topic", paramLabel = "TOPIC", description = "Only this topic's.")
        String topic = "";

        @Override
        public Integer call() {
            List<Transactions.HalfMessage> all = StrataCli.client(spec).transactions().listHalf(topic);
            PrintWriter out = spec.commandLine().getOut();
            int idWidth = Math.max(2, all.stream().mapToInt(h -> h.id().length()).max().orElse(0));
            int topicWidth = Math.max(5, all.stream().mapToInt(h -> h.topic().length()).max().orElse(0));
            String row = "%-" + idWidth + "s  %-" + topicWidth + "s  %9s  %-16s  %-11s  %6s  %10s  %s%n";
            out.printf(row, "ID", "TOPIC", "PARTITION", "PRODUCER-GROUP", "STATUS", "CHECKS", "NEXT-CHECK",
                    "DECIDED-BY");
            long now = System.currentTimeMillis();
            for (Transactions.HalfMessage h : all) {
                out.printf(row, h.id(), h.topic(), h.partition(), h.producerGroup().isEmpty() ? "-" : h.producerGroup(),
                        h.status(), h.checks(), h.nextCheckMs() == 0 ? "-"
                                : String.format("in %.0fs", Math.max(0, h.nextCheckMs() - now) / 1000.0),
                        h.decidedBy().isEmpty() ? "-" : h.decidedBy());
            }
            return 0;
        }
    }

    /** Decides the half messages named, printing each as it then stands. */
    abstract static class Decide implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "ID", arity = "1..*", description = "Half messages' ids, as strata produce "
                + "--half-group printed them.")
        List<String> ids;

        abstract boolean commit();

        @Override
        public Integer call() {
            Transactions transactions = StrataCli.client(spec).transactions();
            for (String id : ids) {
                Transactions.HalfMessage h = transactions.endHalf(id, commit());
                spec.commandLine().getOut().printf("%s  %s/%d  %s%n", h.id(), h.topic(), h.partition(), h.status());
            }
            return 0;
        }
    }

    @Command(name = "commit", mixinStandardHelpOptions = true, description = "Commits half messages: each is "
            + "appended to its partition. Committing one again answers as it stands; one rolled back stays so (an "
            + "error).")
    static final class Commit extends Decide {
        @Override
        boolean commit() {
            return true;
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true, description = "Rolls half messages back: no "
            + "consumer ever sees them.")
    static final class Rollback extends Decide {
        @Override
        boolean commit() {
            return false;
        }
    }

    @Command(name = "answer", mixinStandardHelpOptions = true, description = {"Joins producer group GROUP and "
            + "answers the cluster's checks of its undecided half messages with DECISION, printing each check, until "
            + "--checks checks are answered or --duration passes.",
            "For operators settling a group whose producers are gone, and for trying check-back out."})
    static final class Answer implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--group", paramLabel = "GROUP", required = true, description = "The producer group.")
        String group;
        @Option(names = "--decision", paramLabel = "DECISION", required = true,
                description = "commit, rollback or unknown (asked again at the next check).")
        String decision;
        @Option(names = "--checks", paramLabel = "N", description = "Stop after N checks (default: no limit).")
        int checks = Integer.MAX_VALUE;
        @Option(names = "--duration", paramLabel = "D", converter = BenchCommand.DurationConverter.class,
                description = "Stop after D (e.g. 5m; default: no limit).")
        java.time.Duration duration;

        @Override
        public Integer call() throws InterruptedException {
            CheckBackListener.Decision answer;
            try {
                answer = CheckBackListener.Decision.valueOf(decision.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--decision takes commit, "
                        + "rollback or unknown, not '" + decision + "'");
            }
            if (checks < 1) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--checks takes a count >= 1");
            }
            PrintWriter out = spec.commandLine().getOut();
            CountDownLatch done = new CountDownLatch(checks == Integer.MAX_VALUE ? 1 : checks);
            AtomicInteger answered = new AtomicInteger();
            StrataClient client = StrataCli.client(spec);
            try (HalfProducer producer = client.halfProducer(group, check -> {
                synchronized (out) {
                    out.printf("%s  %s/%d  check %d  key=%s  value=%s  -> %s%n", check.id(), check.topic(),
                            check.partition(), check.checks() + 1, check.key() == null ? "-"
                                    : new String(check.key(), StandardCharsets.UTF_8),
                            new String(check.value(), StandardCharsets.UTF_8), answer.name().toLowerCase(
                                    java.util.Locale.ROOT));
                    out.flush();
                }
                answered.incrementAndGet();
                if (checks != Integer.MAX_VALUE) {
                    done.countDown();
                }
                return answer;
            })) {
                spec.commandLine().getErr().printf("answering checks of producer group %s with %s since %s%n", group,
                        answer.name().toLowerCase(java.util.Locale.ROOT), Instant.now());
                long until = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
                while (!done.await(500, TimeUnit.MILLISECONDS) && System.nanoTime() < until) {
                    if (producer.checkBackRefused().isPresent()) {
                        throw producer.checkBackRefused().get(); // reported as the CLI reports any refusal
                    }
                }
                Thread.sleep(200); // the last answer goes out before the stream ends
            }
            spec.commandLine().getErr().printf("answered %d checks%n", answered.get());
            return 0;
        }
    }
}
