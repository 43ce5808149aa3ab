package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.Header;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicPartitionRecords;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreatePartitionsOptions;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka door, with Apache Kafka's own Java client, on a cluster whose roles are split (two ingest nodes, one
 * fetch node, separate processes on a real etcd and a real S3-compatible server): Metadata sends producers to
 * ingest nodes and reads to the fetch node, and a record is the same record through either door.
 */
class KafkaDoorTest {
    private static final String TOPIC = "doors";
    private static final int PARTITIONS = 4;

    @TempDir
    Path work;
    private StrataCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void kafkaAndGrpcAreTwoDoorsOntoTheSameRecords() throws Exception {
        cluster = new StrataCluster(work);
        List<StrataProcess> together = cluster.startTogether(cluster.prepare("ingest-1", "ingest", Map.of()),
                cluster.prepare("ingest-2", "ingest", Map.of()));
        StrataProcess ingest1 = together.get(0);
        StrataProcess ingest2 = together.get(1);
        // After the ingest nodes: its first Metadata answers name them as leaders (a node started beside them may
        // not have seen them register yet, and answer a partition without a leader, as Kafka's brokers do).
        StrataProcess fetch = cluster.start("fetch-1", "fetch");
        cluster.createTopic(ingest1, TOPIC, PARTITIONS);
        // Any node answers Metadata for the whole cluster: bootstrap from the fetch node alone.
        String bootstrap = fetch.kafkaAddress();

        List<Sent> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> idempotent = producer(bootstrap, Map.of("enable.idempotence", "true",
                "acks", "all", "compression.type", "zstd"))) {
            List<PartitionInfo> partitions = idempotent.partitionsFor(TOPIC);
            assertThat(partitions).hasSize(PARTITIONS);
            List<Integer> ingestBrokers = new ArrayList<>();
            for (PartitionInfo p : partitions) {
                ingestBrokers.add(p.leader().port());
            }
            assertThat(ingestBrokers).as("every partition is led by an ingest node")
                    .allMatch(port -> port == port(ingest1.kafkaAddress()) || port == port(ingest2.kafkaAddress()));
            sent.addAll(send(idempotent, "idempotent", 6_000));
        }
        // A producer's pipelined requests reach Strata's producer state in the order it sent them: no batch of it
        // was refused for its sequence (which a Kafka producer would survive only by starting afresh).
        for (StrataProcess node : List.of(ingest1, ingest2)) {
            assertThat(metric(node, "strata_ingest_records_refused_total")).as("%s refused records", node.address())
                    .isZero();
        }
        try (KafkaProducer<byte[], byte[]> plain = producer(bootstrap, Map.of("enable.idempotence", "false",
                "acks", "1", "compression.type", "gzip"))) {
            sent.addAll(send(plain, "plain", 500));
        }
        // Through the gRPC door: records produced over Kafka, at the offsets Kafka was told.
        FetchServiceGrpc.FetchServiceBlockingStub grpcFetch = FetchServiceGrpc.newBlockingStub(cluster.channel(fetch));
        Map<String, ConsumedRecord> grpcRecords = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            for (ConsumedRecord r : StrataCluster.consume(grpcFetch, TOPIC, p, StrataCluster.endOffset(grpcFetch, TOPIC, p))) {
                grpcRecords.put(p + "@" + r.getOffset(), r);
            }
        }
        assertThat(grpcRecords).hasSize(sent.size());
        for (Sent s : sent) {
            ConsumedRecord r = grpcRecords.get(s.partition() + "@" + s.offset());
            assertThat(r).as("record %s", s.value()).isNotNull();
            assertThat(r.getKey().toStringUtf8()).isEqualTo(s.key());
            assertThat(r.getValue().toStringUtf8()).isEqualTo(s.value());
            assertThat(r.getTimestampMs()).isEqualTo(s.timestamp());
            assertThat(r.getHeadersList()).extracting(Header::getKey).containsExactly("source");
            assertThat(r.getHeaders(0).getValue().toStringUtf8()).isEqualTo(s.value().split("-")[0]);
        }

        // Records produced over gRPC, read back through Kafka with the ones above, each at its offset.
        ProduceResponse grpcProduced = ProducerServiceGrpc.newBlockingStub(cluster.channel(ingest2))
                .withDeadlineAfter(30, TimeUnit.SECONDS).produce(ProduceRequest.newBuilder()
                        .addEntries(TopicPartitionRecords.newBuilder().setTopic(TOPIC).setPartition(2)
                                .addRecords(Record.newBuilder().setKey(ByteString.copyFromUtf8("g"))
                                        .setValue(ByteString.copyFromUtf8("from-grpc")).setTimestampMs(1_700_000_000_000L)
                                        .addHeaders(Header.newBuilder().setKey("source")
                                                .setValue(ByteString.copyFromUtf8("grpc")))))
                        .build());
        long grpcOffset = grpcProduced.getAppends(0).getBaseOffset();

        Map<String, ConsumerRecord<byte[], byte[]>> kafkaRecords = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap)) {
            List<TopicPartition> all = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                all.add(new TopicPartition(TOPIC, p));
            }
            consumer.assign(all);
            consumer.seekToBeginning(all);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (kafkaRecords.size() < sent.size() + 1 && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    assertThat(kafkaRecords.put(r.partition() + "@" + r.offset(), r)).as("read once").isNull();
                }
            }
            Map<TopicPartition, Long> ends = consumer.endOffsets(all);
            for (int p = 0; p < PARTITIONS; p++) {
                assertThat(ends.get(new TopicPartition(TOPIC, p))).isEqualTo(StrataCluster.endOffset(grpcFetch, TOPIC, p));
            }
        }
        assertThat(kafkaRecords).hasSize(sent.size() + 1);
        for (Sent s : sent) {
            ConsumerRecord<byte[], byte[]> r = kafkaRecords.get(s.partition() + "@" + s.offset());
            assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo(s.key());
            assertThat(new String(r.value(), StandardCharsets.UTF_8)).isEqualTo(s.value());
            assertThat(r.timestamp()).isEqualTo(s.timestamp());
        }
        ConsumerRecord<byte[], byte[]> fromGrpc = kafkaRecords.get("2@" + grpcOffset);
        assertThat(new String(fromGrpc.value(), StandardCharsets.UTF_8)).isEqualTo("from-grpc");
        assertThat(new String(fromGrpc.key(), StandardCharsets.UTF_8)).isEqualTo("g");
        assertThat(fromGrpc.timestamp()).isEqualTo(1_700_000_000_000L);
        assertThat(new String(fromGrpc.headers().lastHeader("source").value(), StandardCharsets.UTF_8)).isEqualTo("grpc");

        // Bad input closes its own connection only: a length past the limit, then bytes that are no request.
        assertThat(closedAfter(fetch.kafkaAddress(), 200 << 20, new byte[0])).isTrue();
        assertThat(closedAfter(fetch.kafkaAddress(), 12, new byte[] {0x7f, 0x7f, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}))
                .isTrue();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap)) {
            assertThat(consumer.partitionsFor(TOPIC)).hasSize(PARTITIONS);
        }

        topicsAreAdministeredThroughKafkaAdmin(bootstrap, cluster.channel(ingest1));
        recordsAreDeletedBeforeAnOffsetThroughKafkaAdmin(bootstrap);
        aKafkaConsumerGroupIsAStrataConsumerGroup(bootstrap, sent.size() + 1, cluster.channel(ingest2));
        consumerProtocolMembersShareAGroupWithStrataMembers(bootstrap, sent.size() + 1, cluster.channel(ingest2),
                ingest2.address());
        kcatProducesAndConsumesInAGroup(bootstrap, grpcFetch, cluster.channel(ingest1));
        anIngestNodeKilledDuringAKafkaProduceLosesNothingAcknowledged(bootstrap, ingest1, grpcFetch);
    }

    /**
     * SIGKILL of an ingest node while an idempotent Kafka producer sends: the producer's retries reach the other
     * ingest node once Metadata names it, and every acknowledged record is stored exactly once.
     */
    private static void anIngestNodeKilledDuringAKafkaProduceLosesNothingAcknowledged(String bootstrap,
            StrataProcess victim, FetchServiceGrpc.FetchServiceBlockingStub fetch) throws Exception {
        String topic = "through-a-crash";
        int partitions = 4;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        Map<String, RecordMetadata> acked = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap, Map.of("enable.idempotence", "true",
                "acks", "all", "delivery.timeout.ms", "120000", "request.timeout.ms", "5000",
                "metadata.max.age.ms", "2000"))) {
            for (int i = 0; i < 4_000; i++) {
                String value = "crash-" + i;
                producer.send(new ProducerRecord<>(topic, null, value.getBytes(StandardCharsets.UTF_8)), (m, e) -> {
                    if (e == null) {
                        acked.put(value, m);
                    } else {
                        failed.incrementAndGet();
                    }
                });
                if (i == 1_000) {
                    victim.kill();
                }
                if (i % 100 == 0) {
                    Thread.sleep(25);
                }
            }
            producer.flush();
        }
        assertThat(acked).as("acknowledged (%d failed)", failed.get()).isNotEmpty();
        Map<String, String> stored = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            for (ConsumedRecord r : StrataCluster.consume(fetch, topic, p, StrataCluster.endOffset(fetch, topic, p))) {
                String previous = stored.put(r.getValue().toStringUtf8(), p + "@" + r.getOffset());
                assertThat(previous).as("%s stored once", r.getValue().toStringUtf8()).isNull();
            }
        }
        acked.forEach((value, m) -> assertThat(stored.get(value)).as("acknowledged %s", value)
                .isEqualTo(m.partition() + "@" + m.offset()));
        assertThat(failed.get()).as("with idempotence and retries, nothing fails").isZero();
    }

    /** kcat (librdkafka, as Fluent Bit, Vector and ClickHouse use it): an idempotent zstd producer, a balanced consumer. */
    private static void kcatProducesAndConsumesInAGroup(String bootstrap, FetchServiceGrpc.FetchServiceBlockingStub fetch,
                                                        io.grpc.ManagedChannel grpc) throws Exception {
        String topic = "from-kcat";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            lines.append("key-").append(i).append(':').append("value-").append(i).append('\n');
        }
        kcat(lines.toString(), "-P", "-b", bootstrap, "-t", topic, "-K:", "-z", "zstd", "-X", "enable.idempotence=true");
        Map<String, String> stored = new HashMap<>();
        for (int p = 0; p < 2; p++) {
            for (ConsumedRecord r : StrataCluster.consume(fetch, topic, p, StrataCluster.endOffset(fetch, topic, p))) {
                stored.put(r.getKey().toStringUtf8(), r.getValue().toStringUtf8());
            }
        }
        assertThat(stored).hasSize(200).containsEntry("key-7", "value-7").containsEntry("key-199", "value-199");

        String read = kcat("", "-b", bootstrap, "-G", "kcat-readers", topic, "-o", "beginning", "-e", "-q", "-f", "%k=%s\n");
        assertThat(read.lines().filter(l -> l.startsWith("key-")).distinct().count()).isEqualTo(200);
        io.strata.api.v1.GroupDescription group = io.strata.api.v1.GroupServiceGrpc.newBlockingStub(grpc)
                .withDeadlineAfter(30, TimeUnit.SECONDS).describeGroup(io.strata.api.v1.DescribeGroupRequest.newBuilder()
                        .setGroup("kcat-readers").build());
        assertThat(group.getPartitionsList()).as("kcat committed what it read").hasSize(2)
                .allSatisfy(l -> assertThat(l.getLag()).isZero());
    }

    /** Runs kcat (scripts/ensure-kcat installs it) with {@code input} on its stdin; answers its stdout. */
    private static String kcat(String input, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("kcat"));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            throw new AssertionError("kcat is not installed: run scripts/ensure-kcat (scripts/test does)", e);
        }
        try (var in = p.getOutputStream()) {
            in.write(input.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kcat %s ended", command).isTrue();
        assertThat(p.exitValue()).as("kcat %s", command).isZero();
        return out;
    }

    /**
     * Three Kafka consumers in one group (the cooperative-sticky assignor, rebalancing as each joins and leaves):
     * every record is read, each partition by one member at a time; Strata's own describe shows the members and
     * their partitions, Kafka's AdminClient the same; Strata members cannot join while they live; what they
     * committed is the group's committed offsets, where Strata's members start.
     */
    private static void aKafkaConsumerGroupIsAStrataConsumerGroup(String bootstrap, int records, io.grpc.ManagedChannel grpc)
            throws Exception {
        String group = "kafka-readers";
        java.util.function.Supplier<io.strata.api.v1.GroupServiceGrpc.GroupServiceBlockingStub> groups = () ->
                io.strata.api.v1.GroupServiceGrpc.newBlockingStub(grpc).withDeadlineAfter(30, TimeUnit.SECONDS);
        java.util.Set<String> read = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.ExecutorService members = java.util.concurrent.Executors.newFixedThreadPool(3);
        List<Future<Void>> running = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String clientId = "reader-" + i;
            running.add(members.submit(kafkaMember(bootstrap, group, clientId, Map.of("partition.assignment.strategy",
                    org.apache.kafka.clients.consumer.CooperativeStickyAssignor.class.getName()), read, stop)));
            Thread.sleep(1_500); // one by one: each join is a rebalance
        }
        io.strata.api.v1.GroupDescription described = awaitGroup(groups, group, 3, read, records);
        assertThat(read).as("every record read; the group: %s", described).hasSize(records);
        assertThat(described.getState()).as("%s", described).isEqualTo("STABLE");
        assertThat(described.getMembersList()).extracting(io.strata.api.v1.GroupMemberDescription::getClientId)
                .containsExactlyInAnyOrder("reader-0", "reader-1", "reader-2");
        assertThat(described.getMembersList().stream().flatMap(m -> m.getOwnedList().stream())
                .map(io.strata.api.v1.GroupTopicPartition::getPartition)).as("each partition owned once")
                .containsExactlyInAnyOrder(0, 1, 2, 3);
        assertThat(described.getPartitionsList()).allMatch(l -> l.getLag() == 0);

        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            var kafkaView = admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
            assertThat(kafkaView.members()).hasSize(3);
            assertThat(kafkaView.members().stream().flatMap(m -> m.assignment().topicPartitions().stream())
                    .map(TopicPartition::partition)).containsExactlyInAnyOrder(0, 1, 2, 3);
            assertThat(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS))
                    .hasSize(PARTITIONS);
        }
        // While Kafka's members live, Strata's own cannot join the group.
        assertThat(catching(() -> groups.get().joinGroup(io.strata.api.v1.JoinGroupRequest.newBuilder().setGroup(group)
                .addTopics(TOPIC).setClientId("grpc").build())))
                .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                        .isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION));

        stop.set(true);
        io.strata.api.v1.GroupDescription after = stopped(running, members, groups, group);
        Map<Integer, Long> committed = new HashMap<>();
        groups.get().fetchCommitted(io.strata.api.v1.FetchCommittedRequest.newBuilder().setGroup(group).build())
                .getOffsetsList().forEach(c -> committed.put(c.getPartition(), c.getOffset()));
        assertThat(after.getPartitionsList()).allSatisfy(l -> assertThat(committed.get(l.getPartition()))
                .isEqualTo(l.getEnd()));
    }

    /**
     * Kafka's consumer protocol (KIP-848, {@code group.protocol=consumer}): its members are Strata members, so two
     * Kafka consumers and a Strata client share one group, partitions assigned by Strata's coordinator and moved
     * between the two kinds of client as members come and go; classic Kafka members are refused meanwhile.
     */
    private static void consumerProtocolMembersShareAGroupWithStrataMembers(String bootstrap, int records,
                                                                            io.grpc.ManagedChannel grpc,
                                                                            String strataAddress) throws Exception {
        String group = "kip848-readers";
        java.util.function.Supplier<io.strata.api.v1.GroupServiceGrpc.GroupServiceBlockingStub> groups = () ->
                io.strata.api.v1.GroupServiceGrpc.newBlockingStub(grpc).withDeadlineAfter(30, TimeUnit.SECONDS);
        java.util.Set<String> read = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicBoolean stopStrata = new java.util.concurrent.atomic.AtomicBoolean();
        List<java.util.concurrent.atomic.AtomicBoolean> stopKafka = List.of(new java.util.concurrent.atomic.AtomicBoolean(),
                new java.util.concurrent.atomic.AtomicBoolean());
        java.util.concurrent.ExecutorService members = java.util.concurrent.Executors.newFixedThreadPool(3);
        List<Future<Void>> running = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String clientId = "kip848-" + i;
            java.util.concurrent.atomic.AtomicBoolean stop = stopKafka.get(i);
            running.add(members.submit(kafkaMember(bootstrap, group, clientId, Map.of("group.protocol", "consumer"),
                    read, stop)));
            Thread.sleep(1_000);
        }
        running.add(members.submit(() -> {
            try (io.strata.client.StrataClient client = io.strata.client.StrataClient.builder().server(strataAddress)
                    .build();
                 io.strata.client.Consumer c = client.consumer(TOPIC, io.strata.client.ConsumerConfig.DEFAULT)) {
                c.subscribe(group);
                while (!stopStrata.get()) {
                    for (io.strata.client.ConsumerRecord r : c.poll(Duration.ofMillis(200))) {
                        read.add(r.partition() + "@" + r.offset());
                    }
                    c.commitSync();
                }
            }
            return null;
        }));

        io.strata.api.v1.GroupDescription described = awaitGroup(groups, group, 3, read, records);
        assertThat(read).as("every record read; the group: %s", described).hasSize(records);
        assertThat(described.getMembersList()).extracting(io.strata.api.v1.GroupMemberDescription::getClientId)
                .as("two Kafka members and a Strata one").hasSize(3).contains("kip848-0", "kip848-1");
        assertThat(described.getMembersList()).as("every member owns a partition: %s", described)
                .allMatch(m -> m.getOwnedCount() > 0);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            var kafkaView = admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
            assertThat(kafkaView.members()).hasSize(3);
            assertThat(kafkaView.members().stream().flatMap(m -> m.assignment().topicPartitions().stream())
                    .map(TopicPartition::partition)).containsExactlyInAnyOrder(0, 1, 2, 3);
        }
        // A classic Kafka member cannot join while the group is assigned by Strata's coordinator.
        Properties classic = new Properties();
        classic.put("bootstrap.servers", bootstrap);
        classic.put("group.id", group);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(classic, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(TOPIC));
            assertThat(catching(() -> c.poll(Duration.ofSeconds(20))))
                    .isInstanceOf(org.apache.kafka.common.errors.InconsistentGroupProtocolException.class);
        }

        // One Kafka member leaves: its partitions go to the other two, which read what is produced next.
        stopKafka.get(0).set(true);
        running.get(0).get(60, TimeUnit.SECONDS);
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap, Map.of("acks", "all"))) {
            send(producer, "after-leave", 200);
        }
        described = awaitGroup(groups, group, 2, read, records + 200);
        assertThat(read).as("every record read; the group: %s", described).hasSize(records + 200);
        assertThat(described.getMembersList().stream().flatMap(m -> m.getOwnedList().stream())
                .map(io.strata.api.v1.GroupTopicPartition::getPartition)).as("each partition owned once")
                .containsExactlyInAnyOrder(0, 1, 2, 3);

        stopKafka.get(1).set(true);
        stopStrata.set(true);
        io.strata.api.v1.GroupDescription after = stopped(running, members, groups, group);
        assertThat(after.getPartitionsList()).as("every partition committed to its end: %s", after)
                .allSatisfy(l -> assertThat(l.getLag()).isZero());
    }

    /** A Kafka group member that reads (noting partition@offset) and commits after each poll until stopped. */
    private static java.util.concurrent.Callable<Void> kafkaMember(String bootstrap, String group, String clientId,
                                                                   Map<String, String> settings,
                                                                   java.util.Set<String> read,
                                                                   java.util.concurrent.atomic.AtomicBoolean stop) {
        return () -> {
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            p.put("group.id", group);
            p.put("client.id", clientId);
            p.put("auto.offset.reset", "earliest");
            p.put("enable.auto.commit", "false");
            p.putAll(settings);
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())) {
                c.subscribe(List.of(TOPIC));
                while (!stop.get()) {
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                        read.add(r.partition() + "@" + r.offset());
                    }
                    try {
                        c.commitSync();
                    } catch (org.apache.kafka.common.errors.RebalanceInProgressException e) {
                        // Classic protocol, as with Kafka: a commit during a rebalance is refused; the next poll
                        // completes the rebalance. The consumer protocol has no such phase.
                    }
                }
            }
            return null;
        };
    }

    /** Waits for the members' threads to end (each closes its consumer) and answers the group, which has none. */
    private static io.strata.api.v1.GroupDescription stopped(List<Future<Void>> running,
            java.util.concurrent.ExecutorService members,
            java.util.function.Supplier<io.strata.api.v1.GroupServiceGrpc.GroupServiceBlockingStub> groups,
            String group) throws Exception {
        for (Future<Void> f : running) {
            f.get(60, TimeUnit.SECONDS);
        }
        members.shutdown();
        io.strata.api.v1.GroupDescription after = groups.get().describeGroup(io.strata.api.v1.DescribeGroupRequest
                .newBuilder().setGroup(group).build());
        assertThat(after.getMembersCount()).as("members that close leave").isZero();
        return after;
    }

    /**
     * Waits until the group is stable with {@code members} members owning every partition, {@code records} were
     * read and every partition is committed to its end.
     */
    private static io.strata.api.v1.GroupDescription awaitGroup(
            java.util.function.Supplier<io.strata.api.v1.GroupServiceGrpc.GroupServiceBlockingStub> groups,
            String group, int members, java.util.Set<String> read, int records) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        io.strata.api.v1.GroupDescription described = null;
        while (System.nanoTime() < deadline) {
            described = groups.get().describeGroup(io.strata.api.v1.DescribeGroupRequest.newBuilder().setGroup(group)
                    .build());
            long owned = described.getMembersList().stream().mapToLong(m -> m.getOwnedCount()).sum();
            if (read.size() >= records && described.getMembersCount() == members && owned == PARTITIONS
                    && described.getState().equals("STABLE")
                    && described.getPartitionsList().stream().allMatch(l -> l.getLag() == 0)) {
                break;
            }
            Thread.sleep(250);
        }
        return described;
    }

    /** Kafka's AdminClient: the same topics as Strata's own administration, and precise errors. */
    private static void topicsAreAdministeredThroughKafkaAdmin(String bootstrap, io.grpc.ManagedChannel grpc)
            throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).hasSize(3);
            admin.createTopics(List.of(new NewTopic("audit", 6, (short) 3).configs(Map.of("retention.ms", "86400000",
                    "cleanup.policy", "compact", "min.insync.replicas", "2", "message.timestamp.type", "CreateTime"))))
                    .all().get(30, TimeUnit.SECONDS);
            io.strata.api.v1.TopicDescription strata = io.strata.api.v1.AdminServiceGrpc.newBlockingStub(grpc)
                    .describeTopic(io.strata.api.v1.DescribeTopicRequest.newBuilder().setName("audit").build());
            assertThat(strata.getPartitions()).isEqualTo(6);
            assertThat(strata.getRetentionMs()).isEqualTo(86_400_000L);
            assertThat(strata.getCleanupPolicy()).isEqualTo("compact");
            assertThat(admin.describeTopics(List.of("audit")).allTopicNames().get(30, TimeUnit.SECONDS).get("audit")
                    .partitions()).hasSize(6);

            assertThat(catching(() -> admin.createTopics(List.of(new NewTopic("audit", 1, (short) 1))).all()
                    .get(30, TimeUnit.SECONDS))).isInstanceOf(TopicExistsException.class);
            assertThat(catching(() -> admin.createTopics(List.of(new NewTopic("bad", 1, (short) 1)
                    .configs(Map.of("retention.ms", "soon")))).all().get(30, TimeUnit.SECONDS)))
                    .isInstanceOf(InvalidConfigurationException.class);
            assertThat(catching(() -> admin.createTopics(List.of(new NewTopic("bad/name", 1, (short) 1))).all()
                    .get(30, TimeUnit.SECONDS))).isInstanceOf(InvalidTopicException.class);

            ConfigResource audit = new ConfigResource(ConfigResource.Type.TOPIC, "audit");
            admin.incrementalAlterConfigs(Map.of(audit, List.of(
                    new AlterConfigOp(new ConfigEntry("retention.bytes", "1000000000"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("cleanup.policy", "delete"), AlterConfigOp.OpType.APPEND),
                    new AlterConfigOp(new ConfigEntry("retention.ms", null), AlterConfigOp.OpType.DELETE))))
                    .all().get(30, TimeUnit.SECONDS);
            Config config = admin.describeConfigs(List.of(audit)).all().get(30, TimeUnit.SECONDS).get(audit);
            assertThat(config.get("retention.bytes").value()).isEqualTo("1000000000");
            assertThat(config.get("retention.ms").value()).isEqualTo("-1");
            assertThat(config.get("cleanup.policy").value()).isEqualTo("compact,delete");

            // CreatePartitions grows the topic; any node takes the new partitions at once, none shrinks it.
            admin.createPartitions(Map.of("audit", NewPartitions.increaseTo(9)),
                    new CreatePartitionsOptions().validateOnly(true)).all().get(30, TimeUnit.SECONDS);
            assertThat(admin.describeTopics(List.of("audit")).allTopicNames().get(30, TimeUnit.SECONDS).get("audit")
                    .partitions()).as("validate only").hasSize(6);
            ProducerServiceGrpc.ProducerServiceBlockingStub produce = ProducerServiceGrpc.newBlockingStub(grpc);
            produce.withDeadlineAfter(30, TimeUnit.SECONDS).produce(ProduceRequest.newBuilder().addEntries(
                    TopicPartitionRecords.newBuilder().setTopic("audit").setPartition(5).addRecords(Record.newBuilder()
                            .setValue(ByteString.copyFromUtf8("before")))).build()); // that node now knows 6
            admin.createPartitions(Map.of("audit", NewPartitions.increaseTo(9))).all().get(30, TimeUnit.SECONDS);
            Thread.sleep(io.strata.metadata.TopicCache.RECHECK_MS); // the shortest a node keeps a topic unread
            assertThat(io.strata.api.v1.AdminServiceGrpc.newBlockingStub(grpc).describeTopic(
                    io.strata.api.v1.DescribeTopicRequest.newBuilder().setName("audit").build()).getPartitions())
                    .isEqualTo(9);
            ProduceResponse intoNew = produce.withDeadlineAfter(30, TimeUnit.SECONDS)
                    .produce(ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder()
                            .setTopic("audit").setPartition(8).addRecords(Record.newBuilder()
                                    .setValue(ByteString.copyFromUtf8("in a new partition")))).build());
            assertThat(intoNew.getAppends(0).getBaseOffset()).isZero();
            for (int count : new int[] {9, 4}) {
                assertThat(catching(() -> admin.createPartitions(Map.of("audit", NewPartitions.increaseTo(count)))
                        .all().get(30, TimeUnit.SECONDS))).as("to %d", count).isInstanceOf(InvalidPartitionsException.class);
            }
            assertThat(catching(() -> admin.createPartitions(Map.of("absent", NewPartitions.increaseTo(2)))
                    .all().get(30, TimeUnit.SECONDS))).isInstanceOf(UnknownTopicOrPartitionException.class);

            admin.deleteTopics(List.of("audit")).all().get(30, TimeUnit.SECONDS);
            assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).containsExactly(TOPIC);
            assertThat(catching(() -> admin.deleteTopics(List.of("audit")).all().get(30, TimeUnit.SECONDS)))
                    .isInstanceOf(UnknownTopicOrPartitionException.class);
        }
    }

    /**
     * DeleteRecords as kafka-delete-records.sh and Kafka Streams' repartition purge send it: each partition answered
     * on its own (its new low watermark, or its own error), and a consumer from the beginning starts there.
     */
    private static void recordsAreDeletedBeforeAnOffsetThroughKafkaAdmin(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
             KafkaProducer<byte[], byte[]> producer = producer(bootstrap, Map.of())) {
            admin.createTopics(List.of(new NewTopic("purge", 2, (short) 1), new NewTopic("purge-keyed", 1, (short) 1)
                    .configs(Map.of("cleanup.policy", "compact")))).all().get(30, TimeUnit.SECONDS);
            for (int i = 0; i < 50; i++) {
                producer.send(new ProducerRecord<>("purge", 0, null, ("r" + i).getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
            TopicPartition p0 = new TopicPartition("purge", 0);
            TopicPartition p1 = new TopicPartition("purge", 1);
            var deleted = admin.deleteRecords(Map.of(p0, RecordsToDelete.beforeOffset(20),
                    p1, RecordsToDelete.beforeOffset(5))).lowWatermarks();
            assertThat(deleted.get(p0).get(30, TimeUnit.SECONDS).lowWatermark()).isEqualTo(20);
            assertThat(catching(() -> deleted.get(p1).get(30, TimeUnit.SECONDS)))
                    .as("past the empty partition's end, alone").isInstanceOf(OffsetOutOfRangeException.class);
            assertThat(catching(() -> admin.deleteRecords(Map.of(new TopicPartition("purge-keyed", 0),
                    RecordsToDelete.beforeOffset(0))).all().get(30, TimeUnit.SECONDS)))
                    .isInstanceOf(PolicyViolationException.class);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (admin.listOffsets(Map.of(p0, OffsetSpec.earliest())).partitionResult(p0).get(30, TimeUnit.SECONDS)
                    .offset() != 20 && System.nanoTime() < deadline) {
                Thread.sleep(50); // a node with the fetch role learns the start from its index watch
            }
            assertThat(admin.listOffsets(Map.of(p0, OffsetSpec.earliest())).partitionResult(p0)
                    .get(30, TimeUnit.SECONDS).offset()).isEqualTo(20);
            try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap)) {
                consumer.assign(List.of(p0));
                consumer.seekToBeginning(List.of(p0));
                List<Long> offsets = new ArrayList<>();
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (offsets.size() < 30 && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(500)).forEach(r -> offsets.add(r.offset()));
                }
                assertThat(offsets).as("from the new start to the end, once each")
                        .isEqualTo(java.util.stream.LongStream.range(20, 50).boxed().toList());
            }
            admin.deleteTopics(List.of("purge", "purge-keyed")).all().get(30, TimeUnit.SECONDS);
        }
    }

    private interface Call {
        void run() throws Exception;
    }

    /** The cause of the failure of {@code call} (a Kafka client's future fails with an ExecutionException). */
    private static Throwable catching(Call call) {
        try {
            call.run();
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            return e;
        }
        throw new AssertionError("expected a failure");
    }

    private record Sent(int partition, long offset, String key, String value, long timestamp) {
    }

    private static List<Sent> send(KafkaProducer<byte[], byte[]> producer, String source, int count) throws Exception {
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(TOPIC, null, 1_700_000_000_000L + i,
                    ("key-" + (i % 37)).getBytes(StandardCharsets.UTF_8),
                    (source + "-" + i).getBytes(StandardCharsets.UTF_8));
            r.headers().add("source", source.getBytes(StandardCharsets.UTF_8));
            records.add(r);
            futures.add(producer.send(r));
        }
        List<Sent> sent = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            RecordMetadata m = futures.get(i).get(60, TimeUnit.SECONDS);
            ProducerRecord<byte[], byte[]> r = records.get(i);
            sent.add(new Sent(m.partition(), m.offset(), new String(r.key(), StandardCharsets.UTF_8),
                    new String(r.value(), StandardCharsets.UTF_8), r.timestamp()));
        }
        return sent;
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap, Map<String, String> settings) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("linger.ms", "5");
        p.put("delivery.timeout.ms", "60000");
        p.putAll(settings);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("auto.offset.reset", "earliest");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** A counter of the node's /q/metrics (0 when not exported yet). */
    private static double metric(StrataProcess node, String name) {
        return StrataCluster.metric(node, name);
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    /** Sends a length prefix and bytes; answers whether the node closed the connection (and sent nothing). */
    private static boolean closedAfter(String address, int length, byte[] body) throws IOException {
        int colon = address.lastIndexOf(':');
        try (Socket socket = new Socket(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)))) {
            socket.setSoTimeout(10_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(length);
            out.write(body);
            out.flush();
            return new DataInputStream(socket.getInputStream()).read() == -1;
        }
    }
}
