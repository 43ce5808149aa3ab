package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.SubscribeRequest;
import io.strata.api.v1.SubscribeResponse;
import io.strata.client.Consumer;
import io.strata.client.ConsumerRecord;
import io.strata.client.Producer;
import io.strata.client.ProducerConfig;
import io.strata.client.StrataClient;
import io.strata.client.StrataException;
import io.strata.launcher.net.FaultyHttpProxy;
import io.strata.testkit.s3.S3ServerFixture;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read path across processes, against a real etcd and a real S3-compatible server. Every record
 * carries its partition's sequence number and the time it was sent, so a consumer can tell a lost,
 * repeated or reordered record, and measure the end-to-end latency. The fetch nodes reach the S3 server
 * through a counting HTTP proxy where a test counts GETs.
 */
class ReadPathTest {
    @TempDir
    Path work;
    private StrataCluster cluster;
    private FaultyHttpProxy counting;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void startCluster() {
        cluster = new StrataCluster(work);
        S3ServerFixture s3 = S3ServerFixture.shared();
        counting = new FaultyHttpProxy(new InetSocketAddress("127.0.0.1", s3.endpoint().getPort()), 7);
    }

    @AfterEach
    void stopCluster() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        cluster.close();
        counting.close();
    }

    /** A fetch node whose object store requests are counted (GETs, once it has started). */
    private StrataProcess countedFetchNode(String name) {
        return cluster.start(name, "fetch", Map.of("strata.object-store.s3.endpoint", counting.endpoint().toString()));
    }

    private StrataClient client(StrataProcess node) {
        StrataClient client = StrataClient.builder().server(node.address()).build();
        closeables.add(client);
        return client;
    }

    @Test
    void catchUpFromAColdCacheReadsAGibibyteInOrderWithAboutOneGetPerObject() throws Exception {
        int partitions = 8;
        int recordSize = 1024;
        long total = (1L << 30) / recordSize;
        StrataProcess ingest = cluster.start("ingest-1", "ingest");
        cluster.createTopic(ingest, "backlog", partitions);
        long[] sent = produce(client(ingest), "backlog", partitions, total, recordSize);
        double objects = StrataCluster.metric(ingest, "strata_ingest_blocks_committed_total");

        StrataProcess fetch = countedFetchNode("fetch-cold");
        long before = counting.requests();
        Consumer consumer = client(fetch).consumer("backlog");
        consumer.assignAll();
        consumer.seekToBeginning();
        long started = System.nanoTime();
        long[] next = new long[partitions];
        long read = 0;
        while (read < total) {
            List<ConsumerRecord> records = consumer.poll(Duration.ofSeconds(10));
            long readSoFar = read;
            assertThat(records).as(() -> "records keep coming (" + readSoFar + " of " + total + " read); fetch node:\n"
                    + fetch.logTail(60)).isNotEmpty();
            for (ConsumerRecord r : records) {
                assertThat(sequence(r.value())).as("partition %d in order, nothing lost or repeated", r.partition())
                        .isEqualTo(next[r.partition()]);
                assertThat(r.offset()).isEqualTo(next[r.partition()]);
                assertThat(r.value()).hasSize(recordSize);
                next[r.partition()]++;
                read++;
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        assertThat(next).containsExactly(sent);
        long gets = counting.requests() - before;
        System.out.printf("catch-up: %d records (%.0f MiB) in %.1f s = %.0f MB/s; %d GETs for %.0f objects (node: %.0f "
                        + "loads, %.0f memory hits, %.0f disk hits)%n", read, read * recordSize / 1048576.0, seconds,
                read * recordSize / 1e6 / seconds, gets, objects,
                StrataCluster.metric(fetch, "strata_fetch_cache_loads_total"),
                StrataCluster.metric(fetch, "strata_fetch_cache_memory_hits_total"),
                StrataCluster.metric(fetch, "strata_fetch_cache_disk_hits_total"));
        assertThat((double) gets).as("GETs close to the number of objects, not to the number of fetches")
                .isLessThanOrEqualTo(objects * 1.2 + 2);
    }

    @Test
    void manyConsumersOfOnePartitionAtOnceCostOneGetPerChunk() throws Exception {
        StrataProcess ingest = cluster.start("ingest-1", "ingest");
        cluster.createTopic(ingest, "popular", 1);
        long[] sent = produce(client(ingest), "popular", 1, 40_000, 512);
        double objects = StrataCluster.metric(ingest, "strata_ingest_blocks_committed_total");

        StrataProcess fetch = countedFetchNode("fetch-many");
        long before = counting.requests();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<Long>> readers = new ArrayList<>();
        StrataClient client = client(fetch);
        for (int i = 0; i < 16; i++) {
            readers.add(pool.submit(() -> {
                Consumer consumer = client.consumer("popular");
                consumer.assign(List.of(0));
                consumer.seekToBeginning();
                long next = 0;
                while (next < sent[0]) {
                    for (ConsumerRecord r : consumer.poll(Duration.ofSeconds(10))) {
                        assertThat(sequence(r.value())).isEqualTo(next++);
                    }
                }
                return next;
            }));
        }
        for (Future<Long> reader : readers) {
            assertThat(reader.get(3, TimeUnit.MINUTES)).isEqualTo(sent[0]);
        }
        pool.shutdown();
        long gets = counting.requests() - before;
        System.out.printf("16 consumers of one partition: %d GETs for %.0f objects%n", gets, objects);
        assertThat((double) gets).as("one GET per chunk, however many consumers").isLessThanOrEqualTo(objects);
    }

    @Test
    void tailConsumersGetEveryRecordInOrderByLongPollAndByStreamFromTheHandOff() throws Exception {
        StrataProcess ingest = cluster.start("ingest-1", "ingest");
        StrataProcess fetch = countedFetchNode("fetch-tail");
        cluster.createTopic(ingest, "tail", 2);
        StrataClient producerClient = client(ingest);
        // Nobody reads partition 1: once the ingest node knows what the fetch node reads at the tail, its chunks
        // stay home.
        long watchDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (StrataCluster.metric(ingest, "strata_ingest_handoff_tail_nodes") == 0
                && System.nanoTime() < watchDeadline) {
            Thread.sleep(100);
        }
        assertThat(StrataCluster.metric(ingest, "strata_ingest_handoff_tail_nodes")).isEqualTo(1);
        Producer unread = producerClient.producer();
        for (int i = 0; i < 5; i++) {
            unread.send("tail", 1, null, value(i, 64)).get(30, TimeUnit.SECONDS);
        }
        assertThat(StrataCluster.metric(ingest, "strata_ingest_handoff_skipped_total")).as("chunks kept home")
                .isGreaterThanOrEqualTo(5);
        assertThat(StrataCluster.metric(ingest, "strata_ingest_handoff_sent_total")).isZero();
        assertThat(StrataCluster.metric(fetch, "strata_fetch_cache_handed_over_total")).isZero();
        Consumer longPoll = client(fetch).consumer("tail");
        longPoll.assign(List.of(0));
        longPoll.seek(0, 0);
        LinkedBlockingQueue<SubscribeResponse> streamed = new LinkedBlockingQueue<>();
        CompletableFuture<Throwable> streamEnd = new CompletableFuture<>();
        FetchServiceGrpc.newStub(cluster.channel(fetch)).subscribe(SubscribeRequest.newBuilder().setTopic("tail")
                .setPartition(0).setOffset(0).build(), new StreamObserver<>() {
                    @Override
                    public void onNext(SubscribeResponse value) {
                        streamed.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        streamEnd.complete(t);
                    }

                    @Override
                    public void onCompleted() {
                        streamEnd.complete(null);
                    }
                });
        long getsBefore = counting.requests();

        // 200 records a second for 5 s, each carrying its send time.
        int count = 1_000;
        CompletableFuture<long[]> producing = CompletableFuture.supplyAsync(() -> {
            try {
                return produceAtRate(producerClient, "tail", count, 200);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        List<Long> latenciesMicros = new ArrayList<>();
        long next = 0;
        while (next < count) {
            for (ConsumerRecord r : longPoll.poll(Duration.ofSeconds(10))) {
                assertThat(sequence(r.value())).isEqualTo(next++);
                if (next > 200) { // after the first second: connections made, code warmed up
                    latenciesMicros.add((System.nanoTime() - sentAt(r.value())) / 1_000);
                }
            }
        }
        long streamedNext = 0;
        while (streamedNext < count) {
            SubscribeResponse message = streamed.poll(10, TimeUnit.SECONDS);
            assertThat(message).as("the stream keeps pushing (%d of %d)", streamedNext, count).isNotNull();
            for (ConsumedRecord r : message.getRecords().getRecordsList()) {
                assertThat(r.getOffset()).isEqualTo(streamedNext);
                assertThat(sequence(r.getValue().toByteArray())).isEqualTo(streamedNext++);
            }
        }
        assertThat(producing.get(1, TimeUnit.MINUTES)[0]).isEqualTo(count);
        assertThat(streamEnd).isNotDone();
        long gets = counting.requests() - getsBefore;
        double handedOver = StrataCluster.metric(fetch, "strata_fetch_cache_handed_over_total");
        latenciesMicros.sort(null);
        int measured = latenciesMicros.size();
        System.out.printf("tail: end-to-end p50 %.1f ms, p99 %.1f ms over %d records (after the first second); "
                        + "%.0f chunks handed over, %d GETs%n", latenciesMicros.get(measured / 2) / 1000.0,
                latenciesMicros.get(measured * 99 / 100) / 1000.0, measured, handedOver, gets);
        assertThat(handedOver).as("the ingest node hands fresh chunks to the fetch node").isPositive();
        assertThat((double) gets).as("the tail read from what was handed over, hardly ever with a GET")
                .isLessThanOrEqualTo(handedOver / 2 + 10);
    }

    @Test
    void aCorruptedObjectIsAnErrorForItsRangeNeverAlteredData() throws Exception {
        StrataProcess ingest = cluster.start("ingest-1", "ingest");
        cluster.createTopic(ingest, "fragile", 1);
        StrataClient client = client(ingest);
        Producer producer = client.producer();
        for (int block = 0; block < 3; block++) {
            List<CompletableFuture<?>> acks = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                acks.add(producer.send("fragile", 0, null, value(block * 100L + i, 256)));
            }
            producer.flush();
            for (CompletableFuture<?> ack : acks) {
                ack.get(30, TimeUnit.SECONDS);
            }
        }
        // Flip one byte in the middle of the second object (in key order: the order they were written in).
        Path bucket = S3ServerFixture.shared().bucketDirectory(cluster.bucket());
        List<Path> objects;
        try (Stream<Path> files = Files.walk(bucket)) {
            objects = files.filter(Files::isRegularFile).sorted((a, b) -> {
                try {
                    return Files.getLastModifiedTime(a).compareTo(Files.getLastModifiedTime(b));
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            }).toList();
        }
        assertThat(objects).hasSizeGreaterThanOrEqualTo(3);
        Path victim = objects.get(1);
        byte[] bytes = Files.readAllBytes(victim);
        bytes[bytes.length / 3] ^= 0x5A;
        Files.write(victim, bytes);

        StrataProcess fetch = countedFetchNode("fetch-corrupt");
        Consumer consumer = client(fetch).consumer("fragile");
        consumer.assign(List.of(0));
        consumer.seekToBeginning();
        List<ConsumerRecord> good = new ArrayList<>();
        StrataException failure = null;
        for (int i = 0; i < 10 && failure == null; i++) {
            try {
                good.addAll(consumer.poll(Duration.ofSeconds(2)));
            } catch (StrataException e) {
                failure = e;
            }
        }
        assertThat(failure).as("the damaged range is an error").isNotNull();
        assertThat(failure.code()).isIn(Status.Code.DATA_LOSS);
        for (int i = 0; i < good.size(); i++) {
            assertThat(sequence(good.get(i).value())).as("what was served is unaltered").isEqualTo(i);
            assertThat(Arrays.copyOfRange(good.get(i).value(), 16, 256)).containsOnly((byte) 'x');
        }
        assertThat(good.size()).as("records before the damaged object were served").isLessThan(300);
        assertThat(StrataCluster.metric(fetch, "strata_fetch_cache_corrupt_total")).isPositive();
    }

    @Test
    void fetchNodesJoiningAndLeavingUnderLoadLoseAndRepeatNothing() throws Exception {
        int partitions = 6;
        List<StrataProcess> nodes = cluster.startTogether(cluster.prepare("ingest-1", "ingest", Map.of()),
                cluster.prepare("fetch-a", "fetch", Map.of()), cluster.prepare("fetch-b", "fetch", Map.of()));
        StrataProcess ingest = nodes.get(0);
        StrataProcess fetchA = nodes.get(1);
        StrataProcess fetchB = nodes.get(2);
        cluster.createTopic(ingest, "moving", partitions);
        StrataClient producerClient = client(ingest);
        AtomicBoolean stop = new AtomicBoolean();
        CompletableFuture<long[]> producing = CompletableFuture.supplyAsync(() -> {
            long[] sent = new long[partitions];
            Producer producer = producerClient.producer(ProducerConfig.DEFAULT.withLinger(Duration.ofMillis(5)));
            while (!stop.get()) {
                List<CompletableFuture<?>> acks = new ArrayList<>();
                for (int p = 0; p < partitions; p++) {
                    for (int i = 0; i < 20; i++) {
                        acks.add(producer.send("moving", p, null, value(sent[p]++, 128)));
                    }
                }
                acks.forEach(CompletableFuture::join);
            }
            producer.flush();
            return sent;
        });
        // The consumer bootstraps from the node that stays; it learns of the others from the cluster description.
        Consumer consumer = client(fetchA).consumer("moving");
        consumer.assignAll();
        consumer.seekToBeginning();
        long[] next = new long[partitions];
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
        int phase = 0;
        StrataProcess fetchC = null;
        while (System.nanoTime() < until) {
            long left = until - System.nanoTime();
            if (phase == 0 && left < TimeUnit.SECONDS.toNanos(8)) {
                fetchC = cluster.start("fetch-c", "fetch"); // joins
                phase = 1;
            } else if (phase == 1 && left < TimeUnit.SECONDS.toNanos(4)) {
                fetchB.kill(); // leaves without notice
                phase = 2;
            }
            readInto(consumer, next);
        }
        stop.set(true);
        long[] sent = producing.get(1, TimeUnit.MINUTES);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Arrays.equals(next, sent) && System.nanoTime() < deadline) {
            readInto(consumer, next);
        }
        assertThat(next).as("every record read exactly once, in order").containsExactly(sent);
        assertThat(fetchC).isNotNull();
    }

    private static void readInto(Consumer consumer, long[] next) {
        List<ConsumerRecord> records;
        try {
            records = consumer.poll(Duration.ofMillis(500));
        } catch (StrataException e) {
            // A node going away mid-call: the positions stay where they were, so polling again repeats nothing.
            assertThat(e.code()).as(e.getMessage()).isIn(Status.Code.UNAVAILABLE, Status.Code.CANCELLED,
                    Status.Code.DEADLINE_EXCEEDED);
            return;
        }
        for (ConsumerRecord r : records) {
            assertThat(sequence(r.value())).as("partition %d", r.partition()).isEqualTo(next[r.partition()]);
            next[r.partition()]++;
        }
    }

    /** Sends {@code total} records spread evenly over the partitions; answers how many each got. */
    private static long[] produce(StrataClient client, String topic, int partitions, long total, int recordSize)
            throws Exception {
        long[] sent = new long[partitions];
        Producer producer = client.producer(ProducerConfig.DEFAULT.withMaxInFlightRequests(16));
        List<CompletableFuture<?>> window = new ArrayList<>();
        for (long i = 0; i < total; i++) {
            int p = (int) (i % partitions);
            window.add(producer.send(topic, p, null, randomValue(sent[p]++, recordSize)));
            if (window.size() == 20_000) {
                for (CompletableFuture<?> ack : window) {
                    ack.get(2, TimeUnit.MINUTES);
                }
                window.clear();
            }
        }
        producer.flush();
        for (CompletableFuture<?> ack : window) {
            ack.get(2, TimeUnit.MINUTES);
        }
        return sent;
    }

    private static long[] produceAtRate(StrataClient client, String topic, int count, int perSecond)
            throws InterruptedException {
        Producer producer = client.producer(ProducerConfig.DEFAULT.withLinger(Duration.ofMillis(5)));
        long start = System.nanoTime();
        List<CompletableFuture<?>> acks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long due = start + i * 1_000_000_000L / perSecond;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            acks.add(producer.send(topic, 0, null, value(i, 64)));
        }
        acks.forEach(CompletableFuture::join);
        return new long[] {count};
    }

    /** The partition sequence number, the send time (System.nanoTime) and 'x' padding to {@code size} bytes. */
    private static byte[] value(long sequence, int size) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) 'x');
        ByteBuffer.wrap(bytes).putLong(sequence).putLong(System.nanoTime());
        return bytes;
    }

    /** Like {@link #value} with random padding, so the records compress about as real payloads do. */
    private static byte[] randomValue(long sequence, int size) {
        byte[] bytes = new byte[size];
        java.util.concurrent.ThreadLocalRandom.current().nextBytes(bytes);
        ByteBuffer.wrap(bytes).putLong(sequence).putLong(System.nanoTime());
        return bytes;
    }

    private static long sequence(byte[] value) {
        return ByteBuffer.wrap(value).getLong(0);
    }

    private static long sentAt(byte[] value) {
        return ByteBuffer.wrap(value).getLong(8);
    }
}
