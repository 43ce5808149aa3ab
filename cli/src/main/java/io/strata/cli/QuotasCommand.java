package io.strata.cli;

import io.strata.api.v1.QuotaEntry;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code strata quotas set|remove|describe}: how much a principal may use per second (admin on the cluster). */
@Command(name = "quotas", mixinStandardHelpOptions = true,
        description = "Sets, removes and shows per-principal quotas: produce and fetch bytes and requests per second, "
                + "across the cluster. A client over its quota is slowed, not failed.",
        subcommands = {QuotasCommand.Set.class, QuotasCommand.Remove.class, QuotasCommand.Describe.class})
final class QuotasCommand {
    static final String DEFAULT = "<default>";

    /** Whose quota: a principal, or the default for every principal without its own. */
    static final class Entity {
        @Option(names = "--principal", paramLabel = "P", description = "User:NAME (as `strata whoami` prints it).")
        String principal;
        @Option(names = "--default", description = "Every principal without a quota of its own (each for itself).")
        boolean byDefault;

        String name() {
            return byDefault ? DEFAULT : principal;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Sets a quota, replacing the one there was; in force on every node within seconds.")
    static final class Set implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @ArgGroup(exclusive = true, multiplicity = "1")
        Entity entity;
        @Option(names = "--produce-bytes", paramLabel = "RATE", converter = RateConverter.class,
                description = "Produce bytes per second, e.g. 10MiB, 500k, 1048576 (0 or unset: no limit).")
        long produce;
        @Option(names = "--fetch-bytes", paramLabel = "RATE", converter = RateConverter.class,
                description = "Fetch bytes per second (0 or unset: no limit).")
        long fetch;
        @Option(names = "--requests", paramLabel = "RATE", converter = RateConverter.class,
                description = "Requests per second, every kind counted (0 or unset: no limit).")
        long requests;

        @Override
        public Integer call() {
            QuotaEntry q = QuotaEntry.newBuilder().setEntity(entity.name()).setProduceBytesPerSecond(produce)
                    .setFetchBytesPerSecond(fetch).setRequestsPerSecond(requests).build();
            StrataCli.client(spec).security().setQuota(q);
            spec.commandLine().getOut().println("set: " + describe(q));
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Lifts a quota.")
    static final class Remove implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @ArgGroup(exclusive = true, multiplicity = "1")
        Entity entity;

        @Override
        public Integer call() {
            StrataCli.client(spec).security().removeQuota(entity.name());
            spec.commandLine().getOut().println("removed the quota of " + entity.name());
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, description = "Prints every quota.")
    static final class Describe implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            var quotas = StrataCli.client(spec).security().listQuotas();
            int width = Math.max(6, quotas.stream().mapToInt(q -> q.getEntity().length()).max().orElse(0));
            String row = "%-" + width + "s  %15s  %15s  %12s%n";
            out.printf(row, "ENTITY", "PRODUCE BYTES/S", "FETCH BYTES/S", "REQUESTS/S");
            for (QuotaEntry q : quotas) {
                out.printf(row, q.getEntity(), amount(q.getProduceBytesPerSecond(), true),
                        amount(q.getFetchBytesPerSecond(), true), amount(q.getRequestsPerSecond(), false));
            }
            return 0;
        }
    }

    static String describe(QuotaEntry q) {
        return q.getEntity() + ": produce " + perSecond(q.getProduceBytesPerSecond(), true) + ", fetch "
                + perSecond(q.getFetchBytesPerSecond(), true) + ", requests " + perSecond(q.getRequestsPerSecond(), false);
    }

    private static String perSecond(long value, boolean bytes) {
        return value == 0 ? "unlimited" : amount(value, bytes) + "/s";
    }

    /** "10 MiB", "500 KiB", "1000 B" for bytes (binary multiples when exact), the number for requests; 0 is "-". */
    private static String amount(long value, boolean bytes) {
        if (value == 0) {
            return "-";
        }
        if (!bytes) {
            return Long.toString(value);
        }
        return value % (1 << 20) == 0 ? value / (1 << 20) + " MiB"
                : value % (1 << 10) == 0 ? value / (1 << 10) + " KiB" : value + " B";
    }

    /** "1048576", "500k", "10M", "10MiB", "1g": binary multiples, as the rest of the CLI's sizes. */
    static final class RateConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            String v = value.trim().toLowerCase(Locale.ROOT).replace("ib", "").replace("b", "");
            long unit = 1;
            if (!v.isEmpty() && "kmg".indexOf(v.charAt(v.length() - 1)) >= 0) {
                unit = 1L << (10 * ("kmg".indexOf(v.charAt(v.length() - 1)) + 1));
                v = v.substring(0, v.length() - 1);
            }
            try {
                long n = Long.parseLong(v);
                if (n < 0) {
                    throw new NumberFormatException();
                }
                return Math.multiplyExact(n, unit);
            } catch (RuntimeException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a rate like 1048576, 500k or "
                        + "10MiB");
            }
        }
    }
}
