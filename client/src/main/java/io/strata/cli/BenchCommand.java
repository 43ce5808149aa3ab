package io.strata.cli;

import io.strata.bench.ProduceBench;
import io.strata.bench.ProduceTarget;
import io.strata.client.Producer;
import io.strata.client.ProducerConfig;
import io.strata.client.ServerAddress;
import io.strata.client.StrataClient;
import io.strata.client.StrataException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code strata bench produce}: load generators against a running Strata. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks a running Strata; each run ends with machine-readable lines NAME=VALUE.",
        subcommands = {BenchCommand.Produce.class})
final class BenchCommand {

    @Command(name = "produce", mixinStandardHelpOptions = true,
            description = {"Producers send records as fast as durable acknowledgements allow (or at --rate) for "
                    + "--duration, after --warmup. Creates the topic when it does not exist.",
                    "Ends with produce.records_per_s, produce.mb_s, produce.p50_ms, produce.p99_ms, "
                            + "produce.p999_ms, produce.errors (latency: send to durable acknowledgement)."})
    static final class Produce implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--topic", required = true, paramLabel = "T", description = "The topic to write.")
        String topic;
        @Option(names = "--record-size", defaultValue = "1024", paramLabel = "BYTES", description = "Value size (default 1024).")
        int recordSize;
        @Option(names = "--partitions", defaultValue = "8", paramLabel = "N",
                description = "Partitions of the topic when it is created (default 8).")
        int partitions;
        @Option(names = "--producers", defaultValue = "4", paramLabel = "N",
                description = "Concurrent producers, each with its own connection (default 4).")
        int producers;
        @Option(names = "--duration", defaultValue = "30s", paramLabel = "D", converter = DurationConverter.class,
                description = "How long to measure, e.g. 30s, 5m (default 30s).")
        Duration duration;
        @Option(names = "--warmup", defaultValue = "5s", paramLabel = "D", converter = DurationConverter.class,
                description = "Sending before measuring starts (default 5s).")
        Duration warmup;
        @Option(names = "--rate", defaultValue = "0", paramLabel = "RECORDS_PER_S",
                description = "Total records a second; 0 (default): as fast as possible.")
        long rate;
        @Option(names = "--linger-ms", defaultValue = "5", paramLabel = "MS", description = "Producer linger (default 5).")
        long lingerMs;
        @Option(names = "--batch-bytes", defaultValue = "524288", paramLabel = "BYTES",
                description = "Producer batch size per partition (default 512 KiB).")
        int batchBytes;
        @Option(names = "--compression-level", paramLabel = "LEVEL",
                description = "zstd level the producers compress with (default: the producer's default).")
        Integer compressionLevel;
        @Option(names = "--max-in-flight", paramLabel = "N",
                description = "Requests each producer may have out per node (default: the producer's default).")
        Integer maxInFlight;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            StrataClient admin = StrataCli.client(spec);
            try {
                admin.admin().createTopic(topic, partitions, -1, -1);
                err.printf("created topic %s with %d partitions%n", topic, partitions);
            } catch (StrataException e) {
                if (e.code() != io.grpc.Status.Code.ALREADY_EXISTS) {
                    throw e;
                }
            }
            ServerAddress server = admin.server();
            ProducerConfig config = ProducerConfig.DEFAULT.withLinger(Duration.ofMillis(lingerMs))
                    .withMaxBatchBytes(batchBytes);
            if (compressionLevel != null) {
                config = config.withCompressionLevel(compressionLevel);
            }
            if (maxInFlight != null) {
                config = config.withMaxInFlightRequests(maxInFlight);
            }
            ProducerConfig producerConfig = config;
            List<StrataClient> clients = new ArrayList<>();
            err.printf("producing %d-byte records to %s from %d producers for %s (warm-up %s)%s%n", recordSize, topic,
                    producers, duration, warmup, rate > 0 ? " at " + rate + " records/s" : "");
            try {
                ProduceBench.Result result = new ProduceBench(new ProduceBench.Settings(recordSize, producers, duration,
                        warmup, rate)).run(i -> {
                    StrataClient client = StrataClient.builder().server(server).build();
                    synchronized (clients) {
                        clients.add(client);
                    }
                    return strataTarget(client.producer(producerConfig), topic);
                }, err);
                result.lines("produce").forEach(out::println);
            } finally {
                clients.forEach(StrataClient::close);
            }
            return 0;
        }
    }

    static ProduceTarget strataTarget(Producer producer, String topic) {
        return new ProduceTarget() {
            @Override
            public CompletableFuture<?> send(byte[] value) {
                return producer.send(topic, null, null, value);
            }

            @Override
            public void flush() {
                producer.flush();
            }

            @Override
            public void close() {
                producer.close();
            }
        };
    }

    /** "30s", "500ms", "5m", "1h", or ISO-8601 ("PT30S"). */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String v = value.trim().toLowerCase(java.util.Locale.ROOT);
            try {
                if (v.startsWith("pt")) {
                    return Duration.parse(value);
                }
                if (v.endsWith("ms")) {
                    return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
                }
                long n = Long.parseLong(v.substring(0, v.length() - 1));
                return switch (v.charAt(v.length() - 1)) {
                    case 's' -> Duration.ofSeconds(n);
                    case 'm' -> Duration.ofMinutes(n);
                    case 'h' -> Duration.ofHours(n);
                    default -> throw new NumberFormatException();
                };
            } catch (RuntimeException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration like 30s, 500ms or 5m");
            }
        }
    }
}
