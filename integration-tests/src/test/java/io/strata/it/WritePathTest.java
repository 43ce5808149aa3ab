package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
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
import io.strata.client.ProducerConfig;
import io.strata.client.RecordMetadata;
import io.strata.client.RetryPolicy;
import io.strata.client.StrataClient;
import io.strata.launcher.net.FaultyHttpProxy;
import io.strata.testkit.net.TcpProxy;
import io.strata.testkit.s3.S3ServerFixture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write path's promises against a real etcd and a real S3-compatible server, with nodes as separate
 * processes: several ingest nodes on the same partitions, lost acknowledgements, a node killed under load,
 * S3 failing, and bad input. What is checked is always what a consumer reads back.
 */
class WritePathTest {
    private static final String TOPIC = "events";
    private static final int PARTITIONS = 4;

    @TempDir
    Path work;

    /** Where an acknowledged record is, and which request each unacknowledged record was in. */
    private static final class Outcomes {
        final Map<String, long[]> acked = new ConcurrentHashMap<>(); // value -> {partition, offset}
        final ConcurrentLinkedQueue<List<String>> unacked = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Status.Code> failures = new ConcurrentLinkedQueue<>();

        void record(ProduceRequest request, ProduceResponse response) {
            for (PartitionAppend a : response.getAppendsList()) {
                List<String> values = values(request.getEntries(a.getEntryIndex()));
                for (int i = 0; i < values.size(); i++) {
                    long[] previous = acked.put(values.get(i), new long[] {a.getPartition(), a.getBaseOffset() + i});
                    assertThat(previous).as("acknowledged twice: %s", values.get(i)).isNull();
                }
            }
        }

        void failed(ProduceRequest request, StatusRuntimeException e) {
            failures.add(e.getStatus().getCode());
            request.getEntriesList().forEach(entry -> unacked.add(values(entry)));
        }
    }

    private static List<String> values(TopicPartitionRecords entry) {
        return entry.getRecordsList().stream().map(r -> r.getValue().toString(StandardCharsets.UTF_8)).toList();
    }

    private static ProduceRequest request(int partition, List<String> values) {
        TopicPartitionRecords.Builder entry = TopicPartitionRecords.newBuilder().setTopic(TOPIC).setPartition(partition);
        values.forEach(v -> entry.addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8(v))));
        return ProduceRequest.newBuilder().addEntries(entry).build();
    }

    /**
     * Reads every partition back in full and checks it against the outcomes: offsets dense from 0, every
     * acknowledged record exactly once at its acknowledged offset, each unacknowledged request's records
     * either all there (together, once) or none, each writer's records in its order.
     */
    private static void assertReadBack(StrataCluster cluster, StrataProcess fetchNode, Outcomes outcomes) {
        var admin = AdminServiceGrpc.newBlockingStub(cluster.channel(fetchNode)).withDeadlineAfter(30, TimeUnit.SECONDS);
        List<PartitionDescription> partitions = admin.describeTopic(DescribeTopicRequest.newBuilder().setName(TOPIC)
                .build()).getPartitionDetailsList();
        var fetch = FetchServiceGrpc.newBlockingStub(cluster.channel(fetchNode));
        Map<String, long[]> stored = new HashMap<>();
        for (PartitionDescription p : partitions) {
            List<ConsumedRecord> records = StrataCluster.consume(fetch, TOPIC, p.getPartition(), p.getEndOffset());
            Map<String, Long> lastSequence = new HashMap<>();
            for (int i = 0; i < records.size(); i++) {
                ConsumedRecord r = records.get(i);
                assertThat(r.getOffset()).as("dense offsets in partition %d", p.getPartition()).isEqualTo(i);
                String value = r.getValue().toString(StandardCharsets.UTF_8);
                assertThat(stored.put(value, new long[] {p.getPartition(), r.getOffset()}))
                        .as("%s stored twice", value).isNull();
                String writer = value.substring(0, value.indexOf('-'));
                long sequence = Long.parseLong(value.substring(value.indexOf('-') + 1));
                Long last = lastSequence.put(writer, sequence);
                assertThat(last == null || last < sequence).as("%s's order in partition %d", writer, p.getPartition())
                        .isTrue();
            }
        }
        outcomes.acked.forEach((value, at) -> assertThat(stored.get(value)).as("acknowledged %s", value)
                .containsExactly(at));
        for (List<String> request : outcomes.unacked) {
            long present = request.stream().filter(stored::containsKey).count();
            assertThat(present).as("an unacknowledged request is stored whole or not at all: %s", request)
                    .isIn(0L, (long) request.size());
            if (present > 0) {
                long first = stored.get(request.get(0))[1];
                for (int i = 0; i < request.size(); i++) {
                    assertThat(stored.get(request.get(i))[1]).isEqualTo(first + i);
                }
            }
        }
        long unackedStored = outcomes.unacked.stream().flatMap(List::stream).filter(stored::containsKey).count();
        assertThat(stored).hasSize((int) (outcomes.acked.size() + unackedStored));
    }

    /** {@code writers} threads, each sending requests of {@code batch} records ("wN-seq") until told to stop. */
    private static List<Future<?>> writeUntil(List<ProducerServiceGrpc.ProducerServiceBlockingStub> stubs, int writers,
                                              int batch, int maxRequests, AtomicBoolean stop, Outcomes outcomes,
                                              ExecutorService pool) {
        List<Future<?>> done = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            ProducerServiceGrpc.ProducerServiceBlockingStub stub = stubs.get(w % stubs.size());
            done.add(pool.submit(() -> {
                Random random = new Random(writer);
                for (int n = 0; n < maxRequests && !stop.get(); n++) {
                    List<String> values = new ArrayList<>();
                    for (int i = 0; i < batch; i++) {
                        values.add("w" + writer + "-" + (n * batch + i));
                    }
                    ProduceRequest request = request(random.nextInt(PARTITIONS), values);
                    try {
                        outcomes.record(request, stub.withDeadlineAfter(30, TimeUnit.SECONDS).produce(request));
                    } catch (StatusRuntimeException e) {
                        outcomes.failed(request, e);
                    }
                }
                return null;
            }));
        }
        return done;
    }

    @Test
    void threeIngestNodesWritingTheSamePartitionsStoreEveryAcknowledgedRecordOnceInOrder() throws Exception {
        try (StrataCluster cluster = new StrataCluster(work)) {
            List<StrataProcess> nodes = cluster.startTogether(cluster.prepare("ingest-a", "ingest", Map.of()),
                    cluster.prepare("ingest-b", "ingest", Map.of()), cluster.prepare("ingest-c", "ingest", Map.of()),
                    cluster.prepare("fetch-a", "fetch", Map.of()));
            List<StrataProcess> ingest = nodes.subList(0, 3);
            StrataProcess fetch = nodes.get(3);
            cluster.createTopic(ingest.get(0), TOPIC, PARTITIONS);
            List<ProducerServiceGrpc.ProducerServiceBlockingStub> stubs = ingest.stream()
                    .map(n -> ProducerServiceGrpc.newBlockingStub(cluster.channel(n))).toList();
            Outcomes outcomes = new Outcomes();
            ExecutorService pool = Executors.newFixedThreadPool(6);
            for (Future<?> f : writeUntil(stubs, 6, 10, 80, new AtomicBoolean(), outcomes, pool)) {
                f.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();
            assertThat(outcomes.failures).isEmpty();
            assertThat(outcomes.acked).hasSize(6 * 80 * 10);
            assertReadBack(cluster, fetch, outcomes);
            double conflicts = ingest.stream().mapToDouble(n ->
                    StrataCluster.metric(n, "strata_metadata_commit_conflicts_total")).sum();
            System.out.printf("commit conflicts among three ingest nodes: %.0f%n", conflicts);
        }
    }

    @Test
    void anIdempotentProducerWhoseAcknowledgementsAreLostStoresEachRecordOnce() throws Exception {
        try (StrataCluster cluster = new StrataCluster(work)) {
            StrataProcess ingest = cluster.prepare("ingest-a", "ingest", Map.of());
            // The first two connections carry the produce request to the node but lose its answer, then break.
            try (TcpProxy proxy = new TcpProxy(new InetSocketAddress("127.0.0.1", ingest.port()), 2, 20_000, 1_500)) {
                ingest.with("strata.advertised-address", proxy.address()).start();
                StrataProcess fetch = cluster.start("fetch-a", "fetch");
                cluster.createTopic(fetch, TOPIC, PARTITIONS);
                List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
                Random random = new Random(3);
                try (StrataClient client = StrataClient.builder().server(proxy.address())
                        .produceRetry(new RetryPolicy(8, Duration.ofMillis(200), Duration.ofSeconds(2)))
                        .deadline(Duration.ofSeconds(60)).build()) {
                    var producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ofMillis(50)));
                    for (int i = 0; i < 300; i++) {
                        byte[] noise = new byte[100];
                        random.nextBytes(noise);
                        sent.add(producer.send(TOPIC, 0, null, ("p0-" + i + "-" + java.util.HexFormat.of()
                                .formatHex(noise)).getBytes(StandardCharsets.UTF_8)));
                    }
                    producer.flush();
                }
                List<Long> offsets = new ArrayList<>();
                for (CompletableFuture<RecordMetadata> f : sent) {
                    offsets.add(f.get(1, TimeUnit.MINUTES).offset());
                }
                assertThat(offsets).containsExactlyElementsOf(java.util.stream.LongStream.range(0, 300).boxed().toList());
                assertThat(proxy.connections()).as("the lost answers made the client reconnect").isGreaterThanOrEqualTo(3);
                assertThat(StrataCluster.metric(ingest, "strata_ingest_records_duplicate_total"))
                        .as("retries of stored batches were answered as duplicates").isPositive();
                var fetchStub = FetchServiceGrpc.newBlockingStub(cluster.channel(fetch));
                List<ConsumedRecord> stored = StrataCluster.consume(fetchStub, TOPIC, 0, 300);
                for (int i = 0; i < 300; i++) {
                    assertThat(stored.get(i).getValue().toStringUtf8()).startsWith("p0-" + i + "-");
                }
                assertThat(StrataCluster.endOffset(fetchStub, TOPIC, 0)).as("stored once").isEqualTo(300);
            }
        }
    }

    @Test
    void anIngestNodeKilledUnderLoadLosesNoAcknowledgedRecordAndLeavesNoPartialRequest() throws Exception {
        try (StrataCluster cluster = new StrataCluster(work)) {
            List<StrataProcess> together = cluster.startTogether(cluster.prepare("ingest-a", "ingest", Map.of()),
                    cluster.prepare("fetch-a", "fetch", Map.of()));
            StrataProcess victim = together.get(0);
            StrataProcess fetch = together.get(1);
            cluster.createTopic(victim, TOPIC, PARTITIONS);
            Outcomes outcomes = new Outcomes();
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> writers = writeUntil(List.of(ProducerServiceGrpc.newBlockingStub(cluster.channel(victim))),
                    4, 20, Integer.MAX_VALUE, stop, outcomes, pool);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (outcomes.acked.size() < 2_000 && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            victim.kill(); // SIGKILL, with uploads and commits under way
            stop.set(true);
            for (Future<?> f : writers) {
                f.get(2, TimeUnit.MINUTES);
            }
            pool.shutdown();
            assertThat(outcomes.acked.size()).as("records were acknowledged before the kill").isGreaterThanOrEqualTo(2_000);
            assertThat(outcomes.failures).as("calls in flight at the kill failed").isNotEmpty();
            cluster.start("ingest-b", "ingest"); // a replacement node: the survivors are readable as before
            assertReadBack(cluster, fetch, outcomes);
        }
    }

    @Test
    void s3FailingTransientlyGivesProducersErrorsOrSuccessButNeverAFalseAcknowledgement() throws Exception {
        S3ServerFixture s3 = S3ServerFixture.shared();
        try (StrataCluster cluster = new StrataCluster(work);
             FaultyHttpProxy faulty = new FaultyHttpProxy(new InetSocketAddress("127.0.0.1", s3.endpoint().getPort()), 11)) {
            StrataProcess ingest = cluster.start("ingest-a", "ingest",
                    Map.of("strata.object-store.s3.endpoint", faulty.endpoint().toString(),
                            "strata.object-store.s3.request-timeout", "5s"));
            StrataProcess fetch = cluster.start("fetch-a", "fetch");
            cluster.createTopic(fetch, TOPIC, PARTITIONS);
            faulty.faults(new FaultyHttpProxy.Faults(0.6, 0.2, 400));
            Outcomes outcomes = new Outcomes();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            for (Future<?> f : writeUntil(List.of(ProducerServiceGrpc.newBlockingStub(cluster.channel(ingest))), 4, 20,
                    40, new AtomicBoolean(), outcomes, pool)) {
                f.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();
            faulty.faults(FaultyHttpProxy.Faults.NONE);
            assertThat(faulty.injectedErrors()).as("S3 errors were injected").isPositive();
            assertThat(outcomes.acked).as("most calls still succeeded, thanks to retries").isNotEmpty();
            assertThat(Set.copyOf(outcomes.failures)).as("failures are reported as the store being unavailable")
                    .isSubsetOf(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED);
            System.out.printf("S3 faults: %d requests, %d errors injected, %d delays; %d records acknowledged, %d "
                            + "requests failed%n", faulty.requests(), faulty.injectedErrors(), faulty.injectedDelays(),
                    outcomes.acked.size(), outcomes.failures.size());
            assertReadBack(cluster, fetch, outcomes);
        }
    }

    @Test
    void badInputToARealNodeGetsAPreciseStatusAndStoresNothing() {
        try (StrataCluster cluster = new StrataCluster(work)) {
            StrataProcess node = cluster.start("node-a", "ingest,fetch");
            cluster.createTopic(node, TOPIC, PARTITIONS);
            var stub = ProducerServiceGrpc.newBlockingStub(cluster.channel(node)).withDeadlineAfter(30, TimeUnit.SECONDS);
            long producer = stub.initProducer(InitProducerRequest.getDefaultInstance()).getProducerId();
            Map<ProduceRequest, Status.Code> bad = new java.util.LinkedHashMap<>();
            bad.put(ProduceRequest.getDefaultInstance(), Status.Code.INVALID_ARGUMENT);
            bad.put(request(0, List.of("x")).toBuilder().setEntries(0, request(0, List.of("x")).getEntries(0)
                    .toBuilder().setTopic("nope")).build(), Status.Code.NOT_FOUND);
            bad.put(request(PARTITIONS, List.of("x")), Status.Code.INVALID_ARGUMENT);
            bad.put(request(0, List.of("x".repeat(2 << 20))), Status.Code.INVALID_ARGUMENT);
            bad.put(ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic(TOPIC)
                    .setPartition(0).setBatch(ByteString.copyFromUtf8("not a batch at all"))).build(),
                    Status.Code.INVALID_ARGUMENT);
            // An id never issued: ABORTED, as an expired one, so a producer asks for a new one.
            bad.put(request(0, List.of("x")).toBuilder().setProducerId(producer + 99).build(), Status.Code.ABORTED);
            bad.put(request(0, List.of("x")).toBuilder().setProducerId(1L << 40).build(), Status.Code.ABORTED);
            for (var entry : bad.entrySet()) {
                assertThatThrownBy(() -> stub.produce(entry.getKey()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(entry.getValue());
                            assertThat(e.getStatus().getDescription()).isNotBlank();
                        });
            }
            // An idempotent producer's gap: the first batch is stored, the one after a gap is refused.
            ProduceRequest first = request(1, List.of("a")).toBuilder().setProducerId(producer).build();
            stub.produce(first);
            ProduceRequest gap = request(1, List.of("b")).toBuilder().setProducerId(producer)
                    .setEntries(0, request(1, List.of("b")).getEntries(0).toBuilder().setBaseSequence(5)).build();
            assertThatThrownBy(() -> stub.produce(gap)).isInstanceOfSatisfying(StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
            var partitions = AdminServiceGrpc.newBlockingStub(cluster.channel(node)).describeTopic(
                    DescribeTopicRequest.newBuilder().setName(TOPIC).build()).getPartitionDetailsList();
            Map<Integer, Long> ends = new HashMap<>();
            partitions.forEach(p -> ends.put(p.getPartition(), p.getEndOffset()));
            assertThat(ends).containsEntry(0, 0L).containsEntry(1, 1L).containsEntry(2, 0L).containsEntry(3, 0L);
        }
    }
}
