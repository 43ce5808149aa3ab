package io.strata.cli;

import static io.strata.cli.BenchCommand.createIfMissing;

import io.strata.cli.BenchCommand.DurationConverter;
import io.strata.client.StrataClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code strata bench share|delayed}: the queues' benchmarks (issue 30), subcommands of {@link BenchCommand}. */
final class QueueBenches {
    private QueueBenches() {
    }

    @Command(name = "share", mixinStandardHelpOptions = true,
            description = {"Members of a share group take what the topic holds (from where the group stands), each "
                    + "record accepted on its own and the acknowledgements sent once per polled batch.",
                    "Ends with share.accepted_per_s, share.ack_p50_ms, share.ack_p99_ms (an acknowledgement call "
                            + "until it is stored), share.duplicates (records handed out twice: must be 0), over the "
                            + "whole run; with --warmup also share.measured_accepted_per_s and "
                            + "share.measured_ack_p50_ms, _p99_ms over what followed it."})
    static final class Share implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--topic", required = true, paramLabel = "T", description = "The topic to take.")
        String topic;
        @Option(names = "--group", defaultValue = "bench-share", paramLabel = "G", description = "The share group.")
        String group;
        @Option(names = "--members", defaultValue = "32", paramLabel = "N", description = "Members (default 32).")
        int members;
        @Option(names = "--records", defaultValue = "0", paramLabel = "N", description = "Records to accept in all.")
        long records;
        @Option(names = "--rate", defaultValue = "0", paramLabel = "R", description = "Take at most R records a "
                + "second in all, each poll waiting its turn (default 0: as fast as the members can): ack latency "
                + "at a given load.")
        long rate;
        @Option(names = "--timeout", defaultValue = "10m", paramLabel = "D", converter = DurationConverter.class,
                description = "Stop short after this long (default 10m; the result then says complete=false).")
        Duration timeout;
        @Option(names = "--warmup", defaultValue = "0s", paramLabel = "D", converter = DurationConverter.class,
                description = "Also measure what follows the first D (default 0s: the whole run only), as bench "
                        + "produce measures after its warm-up; give --records for well beyond it.")
        Duration warmup;
        @Option(names = "--redelivery", description = "Instead: a member of share group G-redelivery (lock 2 s, no back-off) "
                + "takes a batch and goes silent; ends with share.redelivery_after_lock_p50_ms and _max_ms, how long "
                + "after their lock ran out its records reached another member.")
        boolean redelivery;

        @Override
        public Integer call() throws InterruptedException {
            PrintWriter err = spec.commandLine().getErr();
            if (redelivery) {
                err.printf("a member of share group %s-redelivery takes up to 100 records of %s and goes silent%n",
                        group, topic);
                new io.strata.bench.ShareBench(1, timeout, 0, Duration.ZERO).redelivery(StrataCli.client(spec), topic,
                        group + "-redelivery", Duration.ofSeconds(2), 100).lines("share")
                        .forEach(spec.commandLine().getOut()::println);
                return 0;
            }
            if (records < 1) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--records N (or --redelivery)");
            }
            if (warmup.isNegative()) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--warmup is zero or more");
            }
            // A topic that is not there fails here, in one line, rather than in every member's first poll; on a
            // client of its own, so that the members' first calls are as cold as a newcomer's.
            try (StrataClient check = StrataCli.separateClient(spec)) {
                check.admin().topic(topic);
            }
            StrataClient client = StrataCli.client(spec);
            err.printf("%d members of share group %s take %d records of %s%n", members, group, records, topic);
            new io.strata.bench.ShareBench(members, timeout, rate, warmup).run(client, topic, group, records, err)
                    .lines("share").forEach(spec.commandLine().getOut()::println);
            return 0;
        }
    }

    @Command(name = "delayed", mixinStandardHelpOptions = true,
            description = {"Producers send --records records delayed between --min-delay and --max-delay (far enough "
                    + "that none comes due), while the delivering node's metrics (--metrics) show how many wait and "
                    + "how much heap it holds.",
                    "Ends with delayed.sent, delayed.sent_per_s, delayed.pending, delayed.old_gen_mb_at_10pct, "
                            + "delayed.old_gen_mb_at_end, delayed.old_gen_mb_max, delayed.heap_used_mb_max."})
    static final class Delayed implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--topic", required = true, paramLabel = "T", description = "The topic to write.")
        String topic;
        @Option(names = "--records", defaultValue = "10000000", paramLabel = "N", description = "Records (default 10M).")
        long records;
        @Option(names = "--record-size", defaultValue = "100", paramLabel = "BYTES", description = "Value size (default 100).")
        int recordSize;
        @Option(names = "--partitions", defaultValue = "8", paramLabel = "N",
                description = "Partitions of the topic when it is created (default 8).")
        int partitions;
        @Option(names = "--producers", defaultValue = "2", paramLabel = "N", description = "Producers (default 2).")
        int producers;
        @Option(names = "--min-delay", defaultValue = "1h", paramLabel = "D", converter = DurationConverter.class,
                description = "Shortest delay (default 1h).")
        Duration minDelay;
        @Option(names = "--max-delay", defaultValue = "2h", paramLabel = "D", converter = DurationConverter.class,
                description = "Longest delay (default 2h).")
        Duration maxDelay;
        @Option(names = "--metrics", defaultValue = "http://127.0.0.1:9401/q/metrics", paramLabel = "URL",
                description = "The delivering (fetch) node's metrics (default the embedded node's).")
        String metrics;
        @Option(names = "--timeout", defaultValue = "30m", paramLabel = "D", converter = DurationConverter.class,
                description = "Stop short after this long (default 30m; the result then says complete=false).")
        Duration timeout;
        @Option(names = "--gc-pid", defaultValue = "0", paramLabel = "PID", description = "A node on this machine: run "
                + "a full GC in it before each look (jcmd PID GC.run), so the old generation shows what is live.")
        long gcPid;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            StrataClient client = StrataCli.client(spec);
            createIfMissing(client, topic, partitions, err);
            err.printf("%d producers send %,d delayed %d-byte records to %s, due in %s to %s%n", producers, records,
                    recordSize, topic, minDelay, maxDelay);
            new io.strata.bench.DelayedBench(producers, recordSize, minDelay, maxDelay, java.net.URI.create(metrics),
                    timeout, gcPid).run(client, topic, records, err).lines("delayed").forEach(spec.commandLine().getOut()::println);
            return 0;
        }
    }
}
