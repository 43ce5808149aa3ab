package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.DescribeTopicRequest;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.InitProducerRequest;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.PartitionDescription;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.client.Consumer;
import io.strata.client.ConsumerRecord;
import io.strata.client.Producer;
import io.strata.client.StrataClient;
import io.strata.client.StrataException;
import io.strata.testkit.etcd.EtcdFixture;
import io.strata.launcher.net.FaultyHttpProxy;
import io.strata.testkit.s3.S3ServerFixture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The history checker: clients write and a consumer reads while the cluster suffers every fault the data path
 * promises to survive, each client's acknowledgements and the consumer's deliveries are recorded, and at the
 * end the stored log is read back whole and checked against that history:
 *
 * <ul>
 *   <li>no acknowledged record lost (by either door: Apache Kafka's own idempotent producer writes through the
 *       Kafka door beside the gRPC writers): each is stored exactly at the offset it was acknowledged with;</li>
 *   <li>nothing stored twice by an idempotent producer (raw gRPC with its own sequences, and the Java client
 *       with its defaults), acknowledged or not; a plain request that failed is stored whole or not at all;</li>
 *   <li>offsets dense from 0 in every partition, each writer's records in the order it wrote them;</li>
 *   <li>the consumer was given every partition in offset order without gaps, each record as stored, and never
 *       {@code DATA_LOSS} for corruption that happened in transit;</li>
 *   <li>a Kafka consumer group member, through the Kafka door, was given every stored record at least once,
 *       each as stored;</li>
 *   <li>transactions over three topics and twenty partitions, written by a producer process SIGKILLed every few
 *       seconds at whatever step it is ({@link TransactionHistory}), are seen whole or not at all by
 *       read-committed consumers: every one committed, none aborted, no record twice, and no last stable offset
 *       held back past the transaction timeout.</li>
 * </ul>
 *
 * Faults, one after the other while the clients write: S3 errors before and after storing, S3 latency with
 * bit flips and truncated GET bodies, SIGKILL of an ingest node and of a fetch node (each started again; the
 * fetch node is killed while the ingest node starts),
 * SIGSTOP of an ingest node past its registration lease, and etcd stopped and started again. The cluster has
 * its own etcd (it is stopped) and its S3 behind the test kit's fault proxy. docs/reliability.md describes the
 * scenarios and keeps the last run's figures, which this test prints as one {@code history-check:} line.
 */
class HistoryCheckTest {
    private static final String TOPIC = "history";
    private static final int PARTITIONS = 6;

    /** Kept when the test fails: the writers' histories and every process's log, to read what went wrong. */
    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path work;

    /** Everything the clients were told and the consumer was given. Thread-safe. */
    private static final class History {
        /** value -> {partition, offset} it was acknowledged at. */
        final Map<String, long[]> acked = new ConcurrentHashMap<>();
        /** Plain requests whose answer was an error: stored whole or not at all. */
        final ConcurrentLinkedQueue<List<String>> unackedPlain = new ConcurrentLinkedQueue<>();
        /** Values written by idempotent producers: stored at most once, acknowledged or not. */
        final Map<String, Boolean> idempotent = new ConcurrentHashMap<>();
        final Map<Status.Code, AtomicLong> failures = new ConcurrentHashMap<>();
        final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        /** partition -> (offset -> value) as the consumer was given them, in delivery order. */
        final Map<Integer, List<Map.Entry<Long, String>>> delivered = new ConcurrentHashMap<>();
        final AtomicLong consumerErrors = new AtomicLong();
        /** "partition/offset" -> value, as a reader replaying from the start was given them (cold cache). */
        final Map<String, String> replayed = new ConcurrentHashMap<>();
        final AtomicLong replayErrors = new AtomicLong();
        /** Failures a Kafka client reported, by exception. */
        final Map<String, AtomicLong> kafkaFailures = new ConcurrentHashMap<>();
        /** "partition/offset" -> value, as a Kafka consumer group was given them (at least once each). */
        final Map<String, String> kafkaDelivered = new ConcurrentHashMap<>();
        final AtomicLong kafkaRedeliveries = new AtomicLong();

        void kafkaFailed(Throwable failure) {
            kafkaFailures.computeIfAbsent(failure.getClass().getSimpleName(), c -> new AtomicLong()).incrementAndGet();
        }

        void acked(String value, long partition, long offset) {
            long[] before = acked.putIfAbsent(value, new long[] {partition, offset});
            if (before != null && (before[0] != partition || before[1] != offset)) {
                violations.add(value + " acknowledged at " + before[0] + "/" + before[1] + " and at " + partition + "/"
                        + offset);
            }
        }

        void failed(Status.Code code) {
            failures.computeIfAbsent(code, c -> new AtomicLong()).incrementAndGet();
            if (code == Status.Code.DATA_LOSS) {
                violations.add("a producer was answered DATA_LOSS");
            }
        }

        long failures() {
            return failures.values().stream().mapToLong(AtomicLong::get).sum();
        }
    }

    private static TopicPartitionRecords entry(int partition, List<String> values) {
        TopicPartitionRecords.Builder entry = TopicPartitionRecords.newBuilder().setTopic(TOPIC).setPartition(partition);
        values.forEach(v -> entry.addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8(v))));
        return entry.build();
    }

    private static List<String> values(String writer, long from, int count) {
        List<String> values = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            values.add(writer + "-" + (from + i));
        }
        return values;
    }

    /** Plain (non-idempotent) requests of 10 records to random partitions, alternating between ingest nodes. */
    private static void plainWriter(String name, List<ProducerServiceGrpc.ProducerServiceBlockingStub> stubs,
                                    AtomicBoolean stop, History history) {
        Random random = new Random(name.hashCode());
        long next = 0;
        for (int n = 0; !stop.get(); n++) {
            List<String> values = values(name, next, 10);
            next += 10;
            ProduceRequest request = ProduceRequest.newBuilder().addEntries(entry(random.nextInt(PARTITIONS), values))
                    .build();
            try {
                ProduceResponse response = stubs.get(n % stubs.size()).withDeadlineAfter(20, TimeUnit.SECONDS)
                        .produce(request);
                PartitionAppend a = response.getAppends(0);
                for (int i = 0; i < values.size(); i++) {
                    history.acked(values.get(i), a.getPartition(), a.getBaseOffset() + i);
                }
            } catch (StatusRuntimeException e) {
                history.failed(e.getStatus().getCode());
                history.unackedPlain.add(values);
                pause(100);
            }
        }
    }

    /**
     * An idempotent producer written by hand on raw gRPC: one id, its own sequences per partition, and each
     * request retried (any node) until it is acknowledged, as after a lost answer.
     */
    private static void idempotentWriter(String name, List<ProducerServiceGrpc.ProducerServiceBlockingStub> stubs,
                                         AtomicBoolean stop, History history) {
        Random random = new Random(name.hashCode());
        long producerId = 0;
        for (int n = 0; producerId == 0; n++) {
            try {
                producerId = stubs.get(n % stubs.size()).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .initProducer(InitProducerRequest.getDefaultInstance()).getProducerId();
            } catch (StatusRuntimeException e) {
                pause(200);
            }
        }
        long[] sequences = new long[PARTITIONS];
        long next = 0;
        int attempt = 0;
        while (!stop.get()) {
            int partition = random.nextInt(PARTITIONS);
            List<String> values = values(name, next, 10);
            next += 10;
            values.forEach(v -> history.idempotent.put(v, true));
            ProduceRequest request = ProduceRequest.newBuilder().setProducerId(producerId)
                    .addEntries(entry(partition, values).toBuilder().setBaseSequence(sequences[partition])).build();
            long retryUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (true) {
                try {
                    PartitionAppend a = stubs.get(attempt++ % stubs.size()).withDeadlineAfter(20, TimeUnit.SECONDS)
                            .produce(request).getAppends(0);
                    for (int i = 0; i < values.size(); i++) {
                        history.acked(values.get(i), a.getPartition(), a.getBaseOffset() + i);
                    }
                    sequences[partition] += values.size();
                    break;
                } catch (StatusRuntimeException e) {
                    history.failed(e.getStatus().getCode());
                    Status.Code code = e.getStatus().getCode();
                    // UNKNOWN "channel closed" with an I/O cause: gRPC's Netty transport saying the connection closed
                    // under the call (a node killed as it was sent), as the Java client takes it (StrataException.from).
                    boolean closedUnder = code == Status.Code.UNKNOWN
                            && e.getStatus().getCause() instanceof java.io.IOException;
                    boolean mayPass = code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED
                            || code == Status.Code.RESOURCE_EXHAUSTED || code == Status.Code.INTERNAL || closedUnder;
                    if (!mayPass || System.nanoTime() > retryUntil) {
                        history.violations.add(name + " could not store " + values.get(0) + ": " + e.getStatus());
                        return;
                    }
                    pause(200);
                }
            }
        }
    }

    /** The Java client with its defaults, keyed records, as an application writes. */
    private static void clientWriter(String name, String bootstrap, AtomicBoolean stop, History history)
            throws Exception {
        try (StrataClient client = StrataClient.builder().server(bootstrap).build();
             Producer producer = client.producer()) {
            List<java.util.concurrent.CompletableFuture<?>> outstanding = new ArrayList<>();
            for (long n = 0; !stop.get(); n++) {
                String value = name + "-" + n;
                history.idempotent.put(value, true);
                outstanding.add(producer.send(TOPIC, null, ("key-" + (n % 40)).getBytes(StandardCharsets.UTF_8),
                        value.getBytes(StandardCharsets.UTF_8)).whenComplete((meta, failure) -> {
                    if (failure == null) {
                        history.acked(value, meta.partition(), meta.offset());
                    } else {
                        Throwable cause = failure instanceof java.util.concurrent.CompletionException
                                ? failure.getCause() : failure;
                        history.failed(cause instanceof StrataException s ? s.code() : Status.Code.UNKNOWN);
                    }
                }));
                if (n % 20 == 19) {
                    Thread.sleep(20);
                }
            }
            producer.flush();
            for (var f : outstanding) {
                try {
                    f.get(3, TimeUnit.MINUTES);
                } catch (java.util.concurrent.ExecutionException e) {
                    // recorded by its callback
                }
            }
        }
    }

    /**
     * Apache Kafka's own producer through the Kafka door, idempotent (its defaults: acks=all, retries, five
     * requests in flight per connection), bootstrapped from every node: what it was told is checked like the rest.
     */
    private static void kafkaWriter(String name, String bootstrap, AtomicBoolean stop, History history)
            throws Exception {
        Properties settings = new Properties();
        settings.put("bootstrap.servers", bootstrap);
        settings.put("enable.idempotence", "true");
        settings.put("acks", "all");
        settings.put("linger.ms", "5");
        settings.put("compression.type", "zstd");
        settings.put("delivery.timeout.ms", "180000");
        settings.put("request.timeout.ms", "10000");
        settings.put("metadata.max.age.ms", "3000");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(settings, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (long n = 0; !stop.get(); n++) {
                String value = name + "-" + n;
                history.idempotent.put(value, true);
                producer.send(new ProducerRecord<>(TOPIC, null, value.getBytes(StandardCharsets.UTF_8)), (meta, e) -> {
                    if (e == null) {
                        history.acked(value, meta.partition(), meta.offset());
                    } else {
                        // Idempotent with retries for three minutes, it has no reason to give up on a record.
                        history.kafkaFailed(e);
                        history.violations.add("the Kafka producer gave up on " + value + ": " + e);
                    }
                });
                if (n % 20 == 19) {
                    Thread.sleep(20);
                }
            }
            producer.flush();
        }
    }

    /**
     * A Kafka consumer group member (classic protocol, auto commit) through the Kafka door, recording what it
     * is given until told to stop: after its node or coordinator is lost it resumes from its commits, so records
     * may come twice, but each as stored.
     */
    private static void kafkaConsumer(String bootstrap, AtomicBoolean stop, History history) {
        Properties settings = new Properties();
        settings.put("bootstrap.servers", bootstrap);
        settings.put("group.id", "history-kafka");
        settings.put("auto.offset.reset", "earliest");
        settings.put("auto.commit.interval.ms", "1000");
        settings.put("metadata.max.age.ms", "3000");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            while (!stop.get()) {
                try {
                    for (org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> r
                            : consumer.poll(Duration.ofMillis(500))) {
                        String before = history.kafkaDelivered.put(r.partition() + "/" + r.offset(),
                                new String(r.value(), StandardCharsets.UTF_8));
                        if (before != null) {
                            history.kafkaRedeliveries.incrementAndGet();
                        }
                    }
                } catch (org.apache.kafka.common.KafkaException e) {
                    // Every fault here is one a Kafka consumer rides out on retriable errors: a poll that throws
                    // was told something it takes as fatal (as UNKNOWN_SERVER_ERROR in Metadata once was).
                    history.kafkaFailed(e);
                    history.violations.add("the Kafka consumer's poll failed: " + e);
                    pause(200);
                }
            }
        }
    }

    /** A consumer of every partition from the beginning, recording what it is given until told to stop. */
    private static void consumer(String bootstrap, AtomicBoolean stop, History history) {
        try (StrataClient client = StrataClient.builder().server(bootstrap).build();
             Consumer consumer = client.consumer(TOPIC)) {
            consumer.assignAll();
            consumer.seekToBeginning();
            while (!stop.get()) {
                try {
                    for (ConsumerRecord r : consumer.poll(Duration.ofMillis(500))) {
                        history.delivered.computeIfAbsent(r.partition(), p -> new ArrayList<>())
                                .add(Map.entry(r.offset(), new String(r.value(), StandardCharsets.UTF_8)));
                    }
                } catch (StrataException e) {
                    history.consumerErrors.incrementAndGet();
                    if (e.code() == Status.Code.DATA_LOSS) {
                        history.violations.add("the consumer was answered DATA_LOSS: " + e.getMessage());
                    }
                    pause(200);
                }
            }
        }
    }

    /**
     * Reads every partition from offset 0 to its end again and again through a fetch node with (almost) no
     * cache, so that its reads are GETs through the fault proxy while GET bodies are damaged.
     */
    private static void replayer(FetchServiceGrpc.FetchServiceBlockingStub fetch, AtomicBoolean stop,
                                 History history) {
        while (!stop.get()) {
            for (int p = 0; p < PARTITIONS && !stop.get(); p++) {
                long offset = 0;
                long end = Long.MAX_VALUE;
                while (offset < end && !stop.get()) {
                    try {
                        var response = fetch.withDeadlineAfter(10, TimeUnit.SECONDS).fetch(
                                io.strata.api.v1.FetchRequest.newBuilder().setTopic(TOPIC).setPartition(p)
                                        .setOffset(offset).setMaxBytes(256 << 10).build());
                        for (ConsumedRecord r : response.getRecordsList()) {
                            history.replayed.put(p + "/" + r.getOffset(), r.getValue().toStringUtf8());
                        }
                        offset = response.getNextOffset();
                        end = response.getEndOffset();
                    } catch (StatusRuntimeException e) {
                        history.replayErrors.incrementAndGet();
                        if (e.getStatus().getCode() == Status.Code.DATA_LOSS) {
                            history.violations.add("a replaying reader was answered DATA_LOSS: " + e.getStatus());
                        }
                        pause(100);
                    }
                }
            }
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void underKillsPausesEtcdRestartsAndS3FaultsNoAcknowledgedRecordIsLostOrDuplicatedAndOrderHolds()
            throws Exception {
        long started = System.nanoTime();
        S3ServerFixture s3 = S3ServerFixture.shared();
        EtcdFixture etcd = EtcdFixture.start();
        try (etcd;
             FaultyHttpProxy faulty = new FaultyHttpProxy(new InetSocketAddress("127.0.0.1", s3.endpoint().getPort()), 15);
             StrataCluster cluster = new StrataCluster(work);
             TransactionHistory transactions = new TransactionHistory(work)) {
            cluster.set("strata.metadata.etcd-endpoints", etcd.endpoint())
                    .set("strata.metadata.timeout", "3s")
                    .set("strata.object-store.s3.endpoint", faulty.endpoint().toString())
                    .set("strata.object-store.s3.request-timeout", "5s");
            List<StrataProcess> together = cluster.startTogether(cluster.prepare("ingest-1", "ingest", Map.of()),
                    cluster.prepare("ingest-2", "ingest", Map.of()));
            StrataProcess ingest1 = together.get(0);
            StrataProcess ingest2 = together.get(1);
            // fetch-1 keeps almost nothing: its reads of older records are GETs through the fault proxy. (With 1 MiB
            // it could hold every record the first ten seconds wrote on a slow machine, and the replay made no GET.)
            List<StrataProcess> fetchNodes = cluster.startTogether(cluster.prepare("fetch-1", "fetch",
                    Map.of("strata.fetch.cache-max-bytes", "65536", "strata.fetch.disk-cache-max-bytes", "0",
                            "strata.fetch.read-ahead-bytes", "0")), cluster.prepare("fetch-2", "fetch", Map.of()));
            StrataProcess fetch1 = fetchNodes.get(0);
            StrataProcess fetch2 = fetchNodes.get(1);
            progress(started, "nodes up");
            cluster.createTopic(ingest1, TOPIC, PARTITIONS);
            transactions.createTopics(cluster, ingest1);
            List<ProducerServiceGrpc.ProducerServiceBlockingStub> stubs = List.of(
                    ProducerServiceGrpc.newBlockingStub(cluster.channel(ingest1)),
                    ProducerServiceGrpc.newBlockingStub(cluster.channel(ingest2)));

            History history = new History();
            AtomicBoolean stopWriters = new AtomicBoolean();
            AtomicBoolean stopConsumer = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(9);
            List<Future<?>> writers = new ArrayList<>();
            writers.add(pool.submit(() -> plainWriter("plain1", stubs, stopWriters, history)));
            writers.add(pool.submit(() -> plainWriter("plain2", stubs, stopWriters, history)));
            writers.add(pool.submit(() -> idempotentWriter("idem1", stubs, stopWriters, history)));
            writers.add(pool.submit(() -> idempotentWriter("idem2", stubs, stopWriters, history)));
            writers.add(pool.submit(() -> {
                clientWriter("client", ingest2.address(), stopWriters, history);
                return null;
            }));
            String kafkaBootstrap = String.join(",", ingest1.kafkaAddress(), ingest2.kafkaAddress(),
                    fetch1.kafkaAddress(), fetch2.kafkaAddress());
            writers.add(pool.submit(() -> {
                kafkaWriter("kafka", kafkaBootstrap, stopWriters, history);
                return null;
            }));
            transactions.start(List.of(ingest1, ingest2, fetch1, fetch2));
            Future<?> reader = pool.submit(() -> consumer(fetch2.address(), stopConsumer, history));
            Future<?> kafkaReader = pool.submit(() -> kafkaConsumer(kafkaBootstrap, stopConsumer, history));

            Map<String, String> faults = new LinkedHashMap<>();
            progress(started, "writers and readers started");
            Thread.sleep(3_000);
            faulty.faults(new FaultyHttpProxy.Faults(0.15, 0, 0, 0.1, 0, 0));
            Thread.sleep(6_000);
            faulty.faults(FaultyHttpProxy.Faults.NONE);
            AtomicBoolean stopReplay = new AtomicBoolean();
            Future<?> replay = pool.submit(() -> replayer(FetchServiceGrpc.newBlockingStub(cluster.channel(fetch1)),
                    stopReplay, history));
            faulty.faults(new FaultyHttpProxy.Faults(0, 0.3, 250, 0, 0.1, 0.1));
            Thread.sleep(8_000);
            stopReplay.set(true);
            replay.get(1, TimeUnit.MINUTES);
            faulty.faults(FaultyHttpProxy.Faults.NONE);
            faults.put("s3", faulty.requests() + " requests: " + faulty.injectedErrors() + " errors before storing, "
                    + faulty.injectedErrorsAfter() + " after, " + faulty.injectedDelays() + " delays, "
                    + faulty.injectedBitFlips() + " bit flips, " + faulty.injectedTruncations() + " truncations");

            progress(started, "S3 faults over");
            // fetch-1 is killed while ingest-1 starts again (their starts overlap, as in a cluster that loses a
            // second node while it brings back the first); ingest-2 is paused only once ingest-1 serves.
            ingest1.kill();
            Thread.sleep(3_000);
            ingest1.launch();
            fetch1.kill();
            Thread.sleep(3_000);
            fetch1.launch();
            ingest1.awaitReady(Duration.ofSeconds(90));
            progress(started, "ingest-1 killed and back");
            fetch1.awaitReady(Duration.ofSeconds(90));
            progress(started, "fetch-1 killed and back");
            ingest2.pause();
            Thread.sleep(12_000); // past its 10 s registration lease
            ingest2.resume();
            Thread.sleep(2_000);
            etcd.stop();
            Thread.sleep(4_000);
            etcd.restart();
            Thread.sleep(5_000);
            progress(started, "faults over");
            stopWriters.set(true);
            transactions.stop();
            progress(started, "transactions stopped");
            for (Future<?> w : writers) {
                w.get(4, TimeUnit.MINUTES);
            }
            progress(started, "writers stopped");
            faults.put("processes", "SIGKILL ingest-1, SIGKILL fetch-1, SIGSTOP ingest-2 12 s, etcd stopped 4 s");

            // The log as stored, read back whole from a fetch node.
            ManagedChannel channel = cluster.channel(fetch1);
            List<PartitionDescription> partitions = AdminServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .describeTopic(DescribeTopicRequest.newBuilder().setName(TOPIC).build()).getPartitionDetailsList();
            var fetch = FetchServiceGrpc.newBlockingStub(channel);
            Map<String, long[]> stored = new HashMap<>();
            Map<Integer, List<String>> logs = new HashMap<>();
            for (PartitionDescription p : partitions) {
                List<ConsumedRecord> records = StrataCluster.consume(fetch, TOPIC, p.getPartition(), p.getEndOffset());
                List<String> log = new ArrayList<>();
                Map<String, Long> lastOfWriter = new HashMap<>();
                for (int i = 0; i < records.size(); i++) {
                    ConsumedRecord r = records.get(i);
                    String value = r.getValue().toStringUtf8();
                    log.add(value);
                    if (r.getOffset() != i) {
                        history.violations.add("offset " + r.getOffset() + " at position " + i + " of partition "
                                + p.getPartition());
                    }
                    long[] before = stored.put(value, new long[] {p.getPartition(), r.getOffset()});
                    if (before != null && history.idempotent.containsKey(value)) {
                        history.violations.add(value + " (idempotent) stored twice: " + before[0] + "/" + before[1]
                                + " and " + p.getPartition() + "/" + r.getOffset());
                    } else if (before != null) {
                        history.violations.add(value + " stored twice");
                    }
                    String writer = value.substring(0, value.lastIndexOf('-'));
                    long sequence = Long.parseLong(value.substring(value.lastIndexOf('-') + 1));
                    Long last = lastOfWriter.put(writer, sequence);
                    if (last != null && last >= sequence) {
                        history.violations.add(writer + "'s order broken in partition " + p.getPartition() + ": "
                                + last + " before " + sequence);
                    }
                }
                logs.put(p.getPartition(), log);
            }
            history.acked.forEach((value, at) -> {
                long[] where = stored.get(value);
                if (where == null) {
                    history.violations.add("acknowledged " + value + " is lost");
                } else if (where[0] != at[0] || where[1] != at[1]) {
                    history.violations.add("acknowledged " + value + " at " + at[0] + "/" + at[1] + " is stored at "
                            + where[0] + "/" + where[1]);
                }
            });
            for (List<String> request : history.unackedPlain) {
                long present = request.stream().filter(stored::containsKey).count();
                if (present != 0 && present != request.size()) {
                    history.violations.add("a failed request is stored in part: " + request);
                }
            }

            history.replayed.forEach((at, value) -> {
                String[] po = at.split("/");
                List<String> log = logs.get(Integer.parseInt(po[0]));
                int offset = Integer.parseInt(po[1]);
                if (offset >= log.size() || !log.get(offset).equals(value)) {
                    history.violations.add("the replaying reader was given " + value + " at " + at);
                }
            });

            // The consumer catches up, then its deliveries are checked against the log.
            long end = partitions.stream().mapToLong(PartitionDescription::getEndOffset).sum();
            long catchUpUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((history.delivered.values().stream().mapToLong(List::size).sum() < end
                    || history.kafkaDelivered.size() < end) && System.nanoTime() < catchUpUntil) {
                Thread.sleep(200);
            }
            progress(started, "consumers caught up");
            stopConsumer.set(true);
            reader.get(1, TimeUnit.MINUTES);
            kafkaReader.get(1, TimeUnit.MINUTES);
            pool.shutdown();
            long deliveries = 0;
            for (int p = 0; p < PARTITIONS; p++) {
                List<Map.Entry<Long, String>> given = history.delivered.getOrDefault(p, List.of());
                List<String> log = logs.get(p);
                deliveries += given.size();
                if (given.size() != log.size()) {
                    history.violations.add("partition " + p + ": the consumer was given " + given.size()
                            + " records of " + log.size());
                }
                for (int i = 0; i < Math.min(given.size(), log.size()); i++) {
                    Map.Entry<Long, String> d = given.get(i);
                    if (d.getKey() != i || !d.getValue().equals(log.get(i))) {
                        history.violations.add("partition " + p + ": delivery " + i + " was " + d.getKey() + "="
                                + d.getValue() + ", the log has " + log.get(i));
                        break;
                    }
                }
            }

            // The Kafka group: every stored record given at least once, each as stored, nothing else.
            for (int p = 0; p < PARTITIONS; p++) {
                List<String> log = logs.get(p);
                for (int i = 0; i < log.size(); i++) {
                    String given = history.kafkaDelivered.get(p + "/" + i);
                    if (given == null) {
                        history.violations.add("partition " + p + ": the Kafka group was never given offset " + i);
                        break;
                    } else if (!given.equals(log.get(i))) {
                        history.violations.add("partition " + p + ": the Kafka group was given " + given + " at " + i
                                + ", the log has " + log.get(i));
                    }
                }
            }
            history.kafkaDelivered.keySet().forEach(at -> {
                String[] po = at.split("/");
                if (Integer.parseInt(po[1]) >= logs.get(Integer.parseInt(po[0])).size()) {
                    history.violations.add("the Kafka group was given a record past the log's end: " + at);
                }
            });
            long kafkaAcked = history.acked.keySet().stream().filter(v -> v.startsWith("kafka-")).count();

            TransactionHistory.Outcome transacted;
            try (StrataClient client = StrataClient.builder().server(String.join(",", ingest1.address(),
                    ingest2.address(), fetch1.address(), fetch2.address())).deadline(Duration.ofSeconds(30)).build()) {
                transacted = transactions.check(client);
            }
            history.violations.addAll(transacted.violations());

            System.out.printf("history-check: acknowledged=%d stored=%d idempotent_written=%d failed_calls=%d %s "
                            + "deliveries=%d consumer_errors=%d replayed=%d replay_errors=%d kafka_acknowledged=%d "
                            + "kafka_delivered=%d kafka_redeliveries=%d kafka_failures=%s %s faults={%s} violations=%d%n",
                    history.acked.size(), stored.size(), history.idempotent.size(), history.failures(),
                    history.failures, deliveries, history.consumerErrors.get(), history.replayed.size(),
                    history.replayErrors.get(), kafkaAcked, history.kafkaDelivered.size(),
                    history.kafkaRedeliveries.get(), history.kafkaFailures, transacted.summary(), faults,
                    history.violations.size());
            assertThat(history.violations).as("violations of the history").isEmpty();
            assertThat(history.acked.size()).as("records acknowledged").isGreaterThan(5_000);
            assertThat(kafkaAcked).as("records acknowledged to the Kafka producer").isGreaterThan(1_000);
            assertThat(faulty.injectedBitFlips() + faulty.injectedTruncations()).as("GET bodies damaged").isPositive();
            assertThat(faulty.injectedErrors() + faulty.injectedErrorsAfter()).as("S3 errors").isPositive();
        }
    }

    /** Where the check's time goes, in its output. */
    private static void progress(long started, String step) {
        System.out.printf("history-check: %s at %.1f s%n", step, (System.nanoTime() - started) / 1e9);
    }
}
