package io.strata.cli;

import io.strata.bench.ConsumeBench;
import io.strata.bench.ConsumeSource;
import io.strata.bench.EndToEndBench;
import io.strata.bench.ProduceBench;
import io.strata.bench.ProduceTarget;
import io.strata.client.Consumer;
import io.strata.client.ConsumerConfig;
import io.strata.client.ConsumerRecord;
import io.strata.client.PartitionInfo;
import io.strata.client.Producer;
import io.strata.client.ProducerConfig;
import io.strata.client.ServerAddress;
import io.strata.client.StrataClient;
import io.strata.client.StrataException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code strata bench produce|consume|e2e|groups|idle-groups}: load generators against a running Strata; the queues'
 * ({@code share}, {@code delayed}) are in {@link QueueBenches}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks a running Strata; each run ends with machine-readable lines NAME=VALUE.",
        subcommands = {BenchCommand.Produce.class, BenchCommand.Consume.class, BenchCommand.EndToEnd.class,
                BenchCommand.GroupsBench.class, BenchCommand.IdleGroupsBench.class, QueueBenches.Share.class, QueueBenches.Delayed.class})
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
        @Option(names = "--records", defaultValue = "0", paramLabel = "N",
                description = "Stop after sending N records (0, the default: run for the duration).")
        long records;
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
        @Option(names = "--tag", paramLabel = "TAG", description = "Tag records (their `tag` header) with TAG: "
                + "every one, or one in --tag-every (for filter benchmarks).")
        String tag;
        @Option(names = "--tag-every", defaultValue = "1", paramLabel = "N",
                description = "With --tag: tag one record in N (default 1: all).")
        int tagEvery;
        @Option(names = "--transactional-id", paramLabel = "ID", description = "Send in transactions: producer i "
                + "takes transactional id ID-i and commits every --records-per-transaction records; ends with "
                + "produce.commit_p50_ms and produce.commit_p99_ms besides.")
        String transactionalId;
        @Option(names = "--records-per-transaction", defaultValue = "100", paramLabel = "N",
                description = "With --transactional-id: records per transaction (default 100).")
        int perTransaction;
        @Option(names = "--commits", defaultValue = "pipelined", paramLabel = "pipelined|waiting",
                description = "With --transactional-id: 'pipelined' (default) begins the next transaction while the "
                        + "last one's commit is answered (Producer.commitTransactionAsync); 'waiting' waits for each "
                        + "commit (commitTransaction), as Kafka's producers do.")
        String commitMode;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            StrataClient admin = StrataCli.client(spec);
            createIfMissing(admin, topic, partitions, err);
            List<ServerAddress> servers = admin.servers();
            ProducerConfig config = ProducerConfig.DEFAULT.withLinger(Duration.ofMillis(lingerMs))
                    .withMaxBatchBytes(batchBytes);
            if (compressionLevel != null) {
                config = config.withCompressionLevel(compressionLevel);
            }
            if (maxInFlight != null) {
                config = config.withMaxInFlightRequests(maxInFlight);
            }
            ProducerConfig producerConfig = config;
            if (!commitMode.equals("pipelined") && !commitMode.equals("waiting")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--commits is pipelined or waiting, not "
                        + commitMode);
            }
            boolean pipelined = commitMode.equals("pipelined");
            List<StrataClient> clients = new ArrayList<>();
            org.HdrHistogram.Recorder commits = new org.HdrHistogram.Recorder(3);
            err.printf("producing %d-byte records to %s from %d producers for %s (warm-up %s)%s%n", recordSize, topic,
                    producers, duration, warmup, rate > 0 ? " at " + rate + " records/s" : "");
            try {
                ProduceBench.Result result = new ProduceBench(new ProduceBench.Settings(recordSize, producers, duration,
                        warmup, rate, records)).run(i -> {
                    StrataClient client = StrataCli.connect(spec, servers);
                    synchronized (clients) {
                        clients.add(client);
                    }
                    if (transactionalId != null) {
                        return new TransactionalTarget(client.transactionalProducer(transactionalId + "-" + i,
                                producerConfig, Duration.ofMinutes(1)), topic, perTransaction, commits, pipelined);
                    }
                    return tag == null ? strataTarget(client.producer(producerConfig), topic)
                            : taggedTarget(client.producer(producerConfig), topic, tag, tagEvery);
                }, err);
                result.lines("produce").forEach(out::println);
                if (transactionalId != null) {
                    org.HdrHistogram.Histogram c = commits.getIntervalHistogram();
                    out.printf(java.util.Locale.ROOT, "produce.commit_p50_ms=%.2f%nproduce.commit_p99_ms=%.2f%n"
                            + "produce.commits=%d%n", c.getValueAtPercentile(50) / 1000.0,
                            c.getValueAtPercentile(99) / 1000.0, c.getTotalCount());
                }
            } finally {
                clients.forEach(StrataClient::close);
            }
            return 0;
        }
    }

    @Command(name = "consume", mixinStandardHelpOptions = true,
            description = {"Reads the topic from its beginning to the end it has when the run starts, as fast as "
                    + "it can (every partition, one consumer decoding the stored chunks itself).",
                    "Ends with consume.records_per_s, consume.mb_s, consume.records, consume.seconds; with "
                            + "--warmup also consume.measured_records_per_s, measured_mb_s, measured_seconds."})
    static final class Consume implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--topic", required = true, paramLabel = "T", description = "The topic to read.")
        String topic;
        @Option(names = "--timeout", defaultValue = "10m", paramLabel = "D", converter = DurationConverter.class,
                description = "Stop short after this long (default 10m; the result then says complete=false).")
        Duration timeout;
        @Option(names = "--warmup", defaultValue = "0s", paramLabel = "D", converter = DurationConverter.class,
                description = "Also report the rate after this long (consume.measured_records_per_s; default 0s: "
                        + "the whole run only).")
        Duration warmup;
        @Option(names = "--max-bytes", defaultValue = "0", paramLabel = "BYTES",
                description = "Record bytes per fetch and partition (default: the node's).")
        int maxBytes;
        @Option(names = "--tags", split = ",", paramLabel = "TAG",
                description = "Read only records with one of these tags (filtered on the node).")
        List<String> tags = new ArrayList<>();
        @Option(names = "--filter", paramLabel = "EXPR", description = "Read only records whose headers pass EXPR.")
        String filter;
        @Option(names = "--isolation-level", defaultValue = "read_uncommitted", paramLabel = "LEVEL",
                description = "read_committed: only committed records, up to each partition's last stable offset.")
        ConsumeCommand.IsolationLevel isolationLevel;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            StrataClient client = StrataCli.client(spec);
            ConsumerConfig config = new ConsumerConfig(maxBytes, ConsumerConfig.DEFAULT.longPollCap()).withTags(tags)
                    .withFilter(filter).withReadCommitted(isolationLevel == ConsumeCommand.IsolationLevel.read_committed);
            try (ConsumeSource source = strataSource(client, topic, config, true)) {
                err.printf("reading %s from its beginning to its end%s%n", topic, config.filtered()
                        ? " through a filter" : "");
                new ConsumeBench(timeout, warmup).run(source, err).lines("consume").forEach(out::println);
                out.println("consume.fetched_bytes=" + source.fetchedBytes());
            }
            return 0;
        }
    }

    @Command(name = "e2e", mixinStandardHelpOptions = true,
            description = {"Produces at --rate while consuming at the tail; measures each record's time from the "
                    + "produce call to its delivery to the consumer. Creates the topic when it does not exist.",
                    "Ends with e2e.p50_ms, e2e.p99_ms, e2e.p999_ms, e2e.max_ms, e2e.records, e2e.missing."})
    static final class EndToEnd implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--topic", required = true, paramLabel = "T", description = "The topic to use.")
        String topic;
        @Option(names = "--rate", defaultValue = "1000", paramLabel = "RECORDS_PER_S",
                description = "Records a second (default 1000).")
        long rate;
        @Option(names = "--record-size", defaultValue = "1024", paramLabel = "BYTES", description = "Value size (default 1024).")
        int recordSize;
        @Option(names = "--partitions", defaultValue = "8", paramLabel = "N",
                description = "Partitions of the topic when it is created (default 8).")
        int partitions;
        @Option(names = "--duration", defaultValue = "20s", paramLabel = "D", converter = DurationConverter.class,
                description = "How long to measure (default 20s).")
        Duration duration;
        @Option(names = "--warmup", defaultValue = "5s", paramLabel = "D", converter = DurationConverter.class,
                description = "Producing and consuming before measuring starts (default 5s).")
        Duration warmup;
        @Option(names = "--linger-ms", defaultValue = "5", paramLabel = "MS", description = "Producer linger (default 5).")
        long lingerMs;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            StrataClient client = StrataCli.client(spec);
            createIfMissing(client, topic, partitions, err);
            Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ofMillis(lingerMs)));
            try (ConsumeSource tail = strataSource(client, topic, 0, false)) {
                err.printf("producing %d records/s to %s while consuming at its tail for %s (warm-up %s)%n", rate,
                        topic, duration, warmup);
                new EndToEndBench(new EndToEndBench.Settings(recordSize, rate, duration, warmup))
                        .run(strataTarget(producer, topic), tail, err).lines("e2e").forEach(out::println);
            } finally {
                producer.close();
            }
            return 0;
        }
    }

    static void createIfMissing(StrataClient client, String topic, int partitions, PrintWriter err) {
        try {
            client.admin().createTopic(topic, partitions, -1, -1);
            err.printf("created topic %s with %d partitions%n", topic, partitions);
        } catch (StrataException e) {
            if (e.code() == io.grpc.Status.Code.PERMISSION_DENIED) {
                client.admin().describeTopic(topic); // a principal that may produce there, not create: it exists
            } else if (e.code() != io.grpc.Status.Code.ALREADY_EXISTS) {
                throw e;
            }
        }
    }

    /**
     * A consumer of every partition of the topic: from the beginning up to the ends the partitions have now
     * ({@code fromBeginning}), or from the ends on (a tail reader).
     */
    @Command(name = "groups", mixinStandardHelpOptions = true,
            description = {"Consumer groups over a topic that holds a backlog (fill it with bench produce first): "
                    + "catch-up without a group and by a group of --members, the time a rebalance takes when a "
                    + "member joins, leaves and is killed (a child process), and the commits a second the members "
                    + "sustain.", "Ends with groups.<figure>=<value> lines."})
    static final class GroupsBench implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--topic", required = true, paramLabel = "T", description = "The topic to read.")
        String topic;
        @Option(names = "--members", defaultValue = "4", paramLabel = "N", description = "Group members (default 4).")
        int members;
        @Option(names = "--commit-duration", defaultValue = "10s", paramLabel = "D", converter = DurationConverter.class,
                description = "How long the members commit in a loop (default 10s).")
        Duration commitFor;

        @Override
        public Integer call() throws Exception {
            StrataClient client = StrataCli.client(spec);
            new io.strata.bench.GroupBench(client, client.servers().stream().map(Object::toString)
                    .collect(java.util.stream.Collectors.joining(",")), topic, members, commitFor,
                    spec.commandLine().getErr()).run().forEach(spec.commandLine().getOut()::println);
            return 0;
        }
    }

    @Command(name = "idle-groups", mixinStandardHelpOptions = true,
            description = {"Holds --groups consumer groups alive, each with one member that heartbeats and follows "
                    + "its assignment, for --hold after they are all assigned: run bench produce or e2e meanwhile "
                    + "to see what many groups cost the data path.",
                    "Prints idle_groups.<figure>=<value> lines when ready (phase=ready) and when done (phase=held)."})
    static final class IdleGroupsBench implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--groups", defaultValue = "10000", paramLabel = "N", description = "Groups (default 10000).")
        int groups;
        @Option(names = "--topic", defaultValue = "idle-groups", paramLabel = "T",
                description = "The topic the groups subscribe to (created with one partition when missing).")
        String topic;
        @Option(names = "--session-timeout", defaultValue = "10s", paramLabel = "D", converter = DurationConverter.class,
                description = "The members' session (default 10s: a heartbeat every 3.3 s each).")
        Duration session;
        @Option(names = "--hold", defaultValue = "60s", paramLabel = "D", converter = DurationConverter.class,
                description = "How long to hold them once all are assigned (default 60s).")
        Duration hold;

        @Override
        public Integer call() throws Exception {
            StrataClient client = StrataCli.client(spec);
            createIfMissing(client, topic, 1, spec.commandLine().getErr());
            new io.strata.bench.IdleGroups(client.groupChannel(), topic, groups, session, spec.commandLine().getOut(),
                    spec.commandLine().getErr()).run(hold);
            return 0;
        }
    }

    static ConsumeSource strataSource(StrataClient client, String topic, int maxBytes, boolean fromBeginning) {
        return strataSource(client, topic, new ConsumerConfig(maxBytes, ConsumerConfig.DEFAULT.longPollCap()),
                fromBeginning);
    }

    static ConsumeSource strataSource(StrataClient client, String topic, ConsumerConfig config, boolean fromBeginning) {
        Consumer consumer = client.consumer(topic, config);
        consumer.assignAll();
        Map<Integer, Long> ends = new HashMap<>();
        for (PartitionInfo p : client.admin().describeTopic(topic).partitionDetails()) {
            ends.put(p.partition(), p.endOffset());
        }
        if (fromBeginning) {
            consumer.seekToBeginning();
        } else {
            consumer.seekToEnd();
        }
        consumer.assignment().forEach(consumer::position); // resolve the starts now, before anything is produced
        return new ConsumeSource() {
            @Override
            public void poll(Duration timeout, java.util.function.Consumer<byte[]> values) {
                for (ConsumerRecord r : consumer.poll(timeout)) {
                    values.accept(r.value());
                }
            }

            @Override
            public boolean caughtUp() {
                return ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
            }

            @Override
            public long fetchedBytes() {
                return consumer.bytesFetched();
            }

            @Override
            public void close() {
                consumer.close();
            }
        };
    }

    /** Records tagged {@code tag}, one in {@code every}; the rest without headers. */
    static ProduceTarget taggedTarget(Producer producer, String topic, String tag, int every) {
        List<io.strata.client.RecordHeader> tagged = List.of(new io.strata.client.RecordHeader("tag",
                tag.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
        ProduceTarget plain = strataTarget(producer, topic);
        return new ProduceTarget() {
            @Override
            public CompletableFuture<?> send(byte[] value) {
                return producer.send(topic, null, null, value,
                        sent.getAndIncrement() % Math.max(1, every) == 0 ? tagged : List.of(), 0);
            }

            @Override
            public void flush() {
                plain.flush();
            }

            @Override
            public void close() {
                plain.close();
            }
        };
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
                    case 'd' -> Duration.ofDays(n);
                    default -> throw new NumberFormatException();
                };
            } catch (RuntimeException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration like 30s, 500ms, 5m or 2d");
            }
        }
    }
}
