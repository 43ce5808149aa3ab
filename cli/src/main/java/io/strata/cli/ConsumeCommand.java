package io.strata.cli;

import io.strata.client.Consumer;
import io.strata.client.ConsumerRecord;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Parameters;

/** {@code strata consume}: prints record values, one a line. */
@Command(name = "consume", mixinStandardHelpOptions = true,
        description = {"Prints the values (UTF-8) of a topic's records, one a line; each partition's records in "
                + "offset order. Without --group or --share, starts at the end of each partition unless "
                + "--from-beginning is given.",
                "With --group, reads the partitions the consumer group gives it, from where the group committed "
                        + "(a partition never committed from its log start), and commits what it printed every "
                        + "5 seconds, when a partition moves to another member, and before it exits.",
                "Stops after --max-messages records, or when nothing new came for --timeout-ms."})
final class ConsumeCommand implements Callable<Integer> {
    /** How long one poll may wait when there is no idle limit; it only bounds a single call. */
    private static final Duration UNBOUNDED_POLL = Duration.ofSeconds(30);

    @Spec
    CommandSpec spec;
    @Parameters(paramLabel = "TOPIC", description = "The topic to read.")
    String topic;
    @Option(names = "--from-beginning", description = "Start at the first stored record of each partition (not with "
            + "--group or --share: a consumer group starts where it committed, a share group where it stands, and "
            + "a partition the group never committed or took records of at its first stored record).")
    boolean fromBeginning;
    @Option(names = "--group", paramLabel = "G", description = "Read as a member of consumer group G.")
    String group;
    @Option(names = "--share", paramLabel = "G", description = "Read as a member of share group G: any number of "
            + "members at once each print records of every partition, each record printed (and accepted) by one; "
            + "from where the group stands (a new group: each partition's first stored record).")
    String share;
    @Option(names = "--partition", paramLabel = "P", description = "Read only this partition (default: all).")
    Integer partition;
    @Option(names = "--max-messages", paramLabel = "N", description = "Stop after N records.")
    Long maxMessages;
    @Option(names = "--timeout-ms", paramLabel = "T", defaultValue = "5000",
            description = "Stop when no record came for T ms (default: ${DEFAULT-VALUE}, with or without "
                    + "--max-messages); 0 waits for ever.")
    long timeoutMs;
    @Option(names = "--tags", paramLabel = "TAG", split = ",", description = "Only records tagged with one of these "
            + "(strata produce --tag); the node sends nothing else, and --group's offsets still move past the rest.")
    List<String> tags = new java.util.ArrayList<>();
    @Option(names = "--filter", paramLabel = "EXPR", description = "Only records whose headers pass EXPR, e.g. "
            + "\"region = 'eu' AND level > 3\" (=, <>, <, >, <=, >=, IN, BETWEEN, IS NULL, AND, OR, NOT; "
            + "docs/queues.md); decided on the node, as --tags.")
    String filter;
    @Option(names = "--exec", paramLabel = "CMD", description = "With --share or --group: run CMD (through /bin/sh "
            + "-c) once per record instead of printing it, the value on its stdin and STRATA_TOPIC, STRATA_PARTITION, "
            + "STRATA_OFFSET, STRATA_KEY, STRATA_DELIVERY_COUNT, STRATA_TIMESTAMP_MS and STRATA_HEADER_<NAME> in its "
            + "environment; exit 0 is done with the record, anything else has it tried again after the group's "
            + "back-off, and sent to the group's dead-letter topic once its deliveries are used up (a consumer "
            + "group's member tries it again itself, holding its partition meanwhile, and stops when the group has "
            + "no dead-letter topic).")
    String exec;
    @Option(names = "--parallel", paramLabel = "N", defaultValue = "1",
            description = "With --exec: run up to N commands at once (default 1).")
    int parallel;
    @Option(names = "--print-headers", description = "Print each record's headers before its value: "
            + "k=v,k2=v2<TAB>value (an empty field when it has none).")
    boolean printHeaders;
    @Option(names = "--print-key", description = "Print each record's key (UTF-8; empty without one) and a tab "
            + "before its value.")
    boolean printKey;
    @Option(names = "--print-offset", description = "Print each record's offset and a tab first.")
    boolean printOffset;
    @Option(names = "--print-partition", description = "Print each record's partition and a tab first.")
    boolean printPartition;
    @Option(names = "--print-timestamp", description = "Print each record's timestamp (epoch ms) and a tab first.")
    boolean printTimestamp;
    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text", description = "text (the default: the "
            + "fields asked for with --print-*, in the order partition, offset, timestamp, key, headers, then the "
            + "value, tab-separated) or json: one JSON object per line with topic, partition, offset, timestamp, "
            + "key, value and headers (bytes that are not UTF-8 as key_base64/value_base64).")
    Format format;

    enum Format {
        text, json
    }
    @Option(names = "--isolation-level", paramLabel = "LEVEL", defaultValue = "read_uncommitted",
            description = "read_committed: only records outside transactions and of committed ones, each partition "
                    + "read up to its last stable offset; read_uncommitted (the default, as Kafka's): every record.")
    IsolationLevel isolationLevel;

    /** Which records of transactions a reader sees (docs/transactions.md). */
    enum IsolationLevel {
        read_uncommitted, read_committed
    }

    @Override
    public Integer call() {
        if ((maxMessages != null && maxMessages <= 0) || timeoutMs < 0) {
            throw new ParameterException(spec.commandLine(), "--max-messages must be positive and --timeout-ms not negative");
        }
        if (share != null) {
            if (isolationLevel == IsolationLevel.read_committed) {
                throw new ParameterException(spec.commandLine(), "--isolation-level read_committed is for consumers "
                        + "of partitions (--group, or none): a share group hands out every stored record");
            }
            if (group != null || partition != null || fromBeginning) {
                throw new ParameterException(spec.commandLine(), "--share hands out records of every partition from "
                        + "where the share group stands: drop --group, --partition and --from-beginning");
            }
            if (parallel < 1 || (parallel > 1 && exec == null)) {
                throw new ParameterException(spec.commandLine(), "--parallel takes 1 or more, with --exec");
            }
            return new SharePrinter(spec, topic, share, maxMessages, timeoutMs, recordFormat(),
                    exec == null ? null : new RecordCommand(exec), parallel, config()).run();
        }
        if (exec != null && group == null) {
            throw new ParameterException(spec.commandLine(), "--exec handles records of a share group (--share G) or "
                    + "a consumer group (--group G)");
        }
        if (group != null) {
            if (parallel != 1) {
                throw new ParameterException(spec.commandLine(), "--parallel is for --share: a consumer group's "
                        + "member handles its partitions' records in order, one at a time");
            }
            if (partition != null || fromBeginning) {
                throw new ParameterException(spec.commandLine(), "--group assigns the partitions and starts where "
                        + "the group committed: drop --partition and --from-beginning (strata groups reset moves a "
                        + "group's offsets)");
            }
            return new GroupPrinter(spec, topic, group, maxMessages, timeoutMs, config(), recordFormat(),
                    exec == null ? null : new RecordCommand(exec)).run();
        }
        Consumer consumer = StrataCli.client(spec).consumer(topic, config());
        if (partition != null) {
            consumer.assign(List.of(partition));
        } else {
            consumer.assignAll();
        }
        if (fromBeginning) {
            consumer.seekToBeginning();
        }
        // Fix the starting points now, so records sent while the first poll is prepared are not skipped.
        consumer.assignment().forEach(consumer::position);
        PrintWriter out = spec.commandLine().getOut();
        RecordFormat lines = recordFormat();
        long printed = 0;
        long idleSince = System.nanoTime();
        while (maxMessages == null || printed < maxMessages) {
            Duration wait = UNBOUNDED_POLL;
            if (timeoutMs > 0) {
                wait = Duration.ofMillis(timeoutMs).minusNanos(System.nanoTime() - idleSince);
                if (wait.isNegative() || wait.isZero()) {
                    break;
                }
            }
            List<ConsumerRecord> records;
            try {
                records = consumer.poll(wait);
            } catch (io.strata.client.StrataException e) {
                if (!ConsumeLoops.goesOnAfter(e, spec.commandLine().getErr())) {
                    throw e;
                }
                continue; // its positions stand: it reads on from them once a node serves it
            }
            for (ConsumerRecord r : records) {
                out.println(lines.line(r));
                printed++;
                if (maxMessages != null && printed >= maxMessages) {
                    break;
                }
            }
            out.flush();
            if (out.checkError()) {
                break; // the reader went away (a closed pipe): nobody to print for
            }
            if (!records.isEmpty()) {
                idleSince = System.nanoTime();
            }
        }
        return 0;
    }

    private io.strata.client.ConsumerConfig config() {
        return io.strata.client.ConsumerConfig.DEFAULT.withTags(tags).withFilter(filter)
                .withReadCommitted(isolationLevel == IsolationLevel.read_committed);
    }

    /** How records are printed, as the options ask. */
    private RecordFormat recordFormat() {
        return new RecordFormat(printPartition, printOffset, printTimestamp, printKey, printHeaders,
                format == Format.json);
    }
}
