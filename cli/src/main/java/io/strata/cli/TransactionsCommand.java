package io.strata.cli;

import io.strata.client.Transactions;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata transactions list|describe|abort}, for operators. Not runnable itself: picocli asks for one. */
@Command(name = "transactions", mixinStandardHelpOptions = true, description = "Lists, describes and aborts "
        + "transactional producers' transactions (docs/transactions.md).",
        subcommands = {TransactionsCommand.ListTransactions.class, TransactionsCommand.Describe.class,
                TransactionsCommand.Abort.class, HalfCommand.class})
final class TransactionsCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Prints every transactional id: its "
            + "producer, whether a transaction is open (and for how long, on how many partitions), how the last one "
            + "ended.")
    static final class ListTransactions implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            List<Transactions.Description> all = StrataCli.client(spec).transactions().list();
            PrintWriter out = spec.commandLine().getOut();
            int width = Math.max(16, all.stream().mapToInt(t -> t.transactionalId().length()).max().orElse(0));
            String row = "%-" + width + "s  %20s  %5s  %13s  %10s  %10s  %9s%n";
            out.printf(row, "TRANSACTIONAL-ID", "PRODUCER-ID", "EPOCH", "STATE", "OPEN-FOR", "PARTITIONS", "LAST");
            long now = System.currentTimeMillis();
            for (Transactions.Description t : all) {
                out.printf(row, t.transactionalId(), t.producerId(), t.producerEpoch(), t.state(),
                        t.startedAtMs() == 0 ? "-" : String.format("%.1fs", (now - t.startedAtMs()) / 1000.0),
                        t.partitions().size(), t.lastOutcome());
            }
            return 0;
        }
    }

    /** A command about one transactional id, printing it as it stands after. */
    abstract static class OneId implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "ID", description = "The transactional id.")
        String transactionalId;

        abstract Transactions.Description run(Transactions transactions, String id);

        @Override
        public Integer call() {
            print(spec.commandLine().getOut(), run(StrataCli.client(spec).transactions(), transactionalId));
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, description = "Prints one transactional id's "
            + "producer and transaction, and a row per partition it added: where read-committed readers stop while it "
            + "is open.")
    static final class Describe extends OneId {
        @Override
        Transactions.Description run(Transactions transactions, String id) {
            return transactions.describe(id);
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true, description = "Aborts the id's open transaction and "
            + "fences its producer (its next send or commit fails \"producer fenced\"), as the timeout would: for a "
            + "transaction whose producer hangs. Needs admin on the cluster.")
    static final class Abort extends OneId {
        @Override
        Transactions.Description run(Transactions transactions, String id) {
            return transactions.abort(id);
        }
    }

    static void print(PrintWriter out, Transactions.Description t) {
        out.printf("transactional id %s  producer %d epoch %d  state %s  last %s  timeout %d ms%n",
                t.transactionalId(), t.producerId(), t.producerEpoch(), t.state(), t.lastOutcome(), t.timeoutMs());
        if (t.startedAtMs() != 0) {
            out.printf("open since %s: producer id %d, transaction epoch %d%n", Instant.ofEpochMilli(t.startedAtMs()),
                    t.txnProducerId(), t.txnEpoch());
        }
        if (!t.partitions().isEmpty()) {
            int width = Math.max(5, t.partitions().stream().mapToInt(p -> p.topic().length()).max().orElse(0));
            String row = "%-" + width + "s  %9s  %12s%n";
            out.printf(row, "TOPIC", "PARTITION", "START");
            t.partitions().forEach(p -> out.printf(row, p.topic(), p.partition(), p.startOffset()));
        }
    }
}
