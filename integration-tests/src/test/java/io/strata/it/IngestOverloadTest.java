package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicPartitionRecords;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An ingest node offered far more than it can store (its S3 answers every request a second late, through
 * the test kit's fault proxy, so it stores a few MB/s), from many connections at once: streams that pipeline as
 * many 8 MiB requests as they are let, unary calls, and requests of a hundred thousand empty records. Its
 * memory stays bounded (the resident size is sampled throughout), it stays ready, the excess is refused
 * with {@code RESOURCE_EXHAUSTED} (or runs out its deadline; a stream's client is held back by flow control),
 * everything acknowledged is stored, and nothing that was not sent.
 * {@code -Dstrata.overload.seconds} makes the run longer (docs/reliability.md has a 5-minute run).
 */
class IngestOverloadTest {
    private static final String TOPIC = "overload";
    private static final int PARTITIONS = 4;
    /** The node's heap (StrataProcess's -Xmx) plus what the JVM and gRPC may hold beside it. */
    private static final long RESIDENT_BOUND = 1_400L << 20;

    @TempDir
    Path work;

    private static ProduceRequest bigRequest(Random random, int partition) {
        TopicPartitionRecords.Builder entry = TopicPartitionRecords.newBuilder().setTopic(TOPIC).setPartition(partition);
        for (int i = 0; i < 7; i++) {
            byte[] value = new byte[1_000_000];
            random.nextBytes(value);
            entry.addRecords(Record.newBuilder().setValue(ByteString.copyFrom(value)));
        }
        return ProduceRequest.newBuilder().addEntries(entry).build();
    }

    private static ProduceRequest emptyRecords(int partition, int count) {
        TopicPartitionRecords.Builder entry = TopicPartitionRecords.newBuilder().setTopic(TOPIC).setPartition(partition);
        for (int i = 0; i < count; i++) {
            entry.addRecords(Record.getDefaultInstance());
        }
        return ProduceRequest.newBuilder().addEntries(entry).build();
    }

    private static boolean sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
        return true;
    }

    @Test
    void anOverloadedNodeStaysWithinItsMemoryRefusesTheExcessAndStoresExactlyWhatItAcknowledged() throws Exception {
        int seconds = Integer.getInteger("strata.overload.seconds", 30);
        io.strata.testkit.s3.S3ServerFixture s3 = io.strata.testkit.s3.S3ServerFixture.shared();
        try (StrataCluster cluster = new StrataCluster(work);
             io.strata.launcher.net.FaultyHttpProxy slow = new io.strata.launcher.net.FaultyHttpProxy(
                     new java.net.InetSocketAddress("127.0.0.1", s3.endpoint().getPort()), 3)) {
            slow.faults(new io.strata.launcher.net.FaultyHttpProxy.Faults(0, 1, 1_000));
            StrataProcess ingest = cluster.start("ingest-a", "ingest",
                    Map.of("strata.object-store.s3.endpoint", slow.endpoint().toString()));
            StrataProcess reader = cluster.start("fetch-a", "fetch");
            cluster.createTopic(ingest, TOPIC, PARTITIONS);
            Map<Status.Code, AtomicLong> refusals = new ConcurrentHashMap<>();
            AtomicLong ackedRecords = new AtomicLong();
            AtomicLong sentRecords = new AtomicLong();
            AtomicLong ackedBytes = new AtomicLong();
            AtomicLong maxResident = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            List<ManagedChannel> channels = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                channels.add(cluster.channel(ingest));
            }
            Random random = new Random(5);
            List<ProduceRequest> payloads = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                payloads.add(bigRequest(random, p));
            }
            ExecutorService pool = Executors.newFixedThreadPool(20);
            List<Future<?>> load = new ArrayList<>();
            // Streams: each keeps up to 32 requests of 8 MiB out, as fast as the node reads them.
            for (int s = 0; s < 16; s++) {
                ManagedChannel channel = channels.get(s % channels.size());
                int stream = s;
                load.add(pool.submit(() -> {
                    Semaphore window = new Semaphore(32);
                    AtomicBoolean ended = new AtomicBoolean();
                    StreamObserver<ProduceRequest> requests = ProducerServiceGrpc.newStub(channel)
                            .produceStream(new StreamObserver<>() {
                                @Override
                                public void onNext(ProduceResponse response) {
                                    window.release();
                                    if (response.hasError()) {
                                        refusals.computeIfAbsent(Status.fromCodeValue(response.getError().getCode())
                                                .getCode(), c -> new AtomicLong()).incrementAndGet();
                                    } else {
                                        ackedRecords.addAndGet(response.getAppends(0).getRecordCount());
                                        ackedBytes.addAndGet(7_000_000);
                                    }
                                }

                                @Override
                                public void onError(Throwable t) {
                                    if (!stop.get()) {
                                        refusals.computeIfAbsent(Status.fromThrowable(t).getCode(),
                                                c -> new AtomicLong()).incrementAndGet();
                                    }
                                    ended.set(true);
                                    window.release(32);
                                }

                                @Override
                                public void onCompleted() {
                                    ended.set(true);
                                    window.release(32);
                                }
                            });
                    long id = 0;
                    while (!stop.get() && !ended.get()) {
                        if (window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                            sentRecords.addAndGet(7);
                            requests.onNext(payloads.get((int) (id % PARTITIONS)).toBuilder().setRequestId(id++).build());
                        }
                    }
                    // Requests still out are cancelled: they may yet be stored, unacknowledged (counted as sent).
                    ((io.grpc.stub.ClientCallStreamObserver<ProduceRequest>) requests).cancel("the test is over", null);
                    return null;
                }));
            }
            // Unary calls, big and empty-recorded.
            for (int u = 0; u < 4; u++) {
                ManagedChannel channel = channels.get(u);
                int caller = u;
                load.add(pool.submit(() -> {
                    var stub = ProducerServiceGrpc.newBlockingStub(channel);
                    for (long n = 0; !stop.get(); n++) {
                        ProduceRequest request = caller == 0 && n % 4 == 0 ? emptyRecords((int) (n % PARTITIONS),
                                100_000) : payloads.get((int) (n % PARTITIONS));
                        sentRecords.addAndGet(request.getEntries(0).getRecordsCount());
                        try {
                            ProduceResponse response = stub.withDeadlineAfter(20, TimeUnit.SECONDS).produce(request);
                            ackedRecords.addAndGet(response.getAppends(0).getRecordCount());
                        } catch (StatusRuntimeException e) {
                            refusals.computeIfAbsent(e.getStatus().getCode(), c -> new AtomicLong()).incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < until && ingest.isAlive()) {
                maxResident.accumulateAndGet(ingest.residentBytes(), Math::max);
                Thread.sleep(250);
            }
            stop.set(true);
            for (Future<?> f : load) {
                f.get(2, TimeUnit.MINUTES);
            }
            pool.shutdown();
            assertThat(ingest.isAlive()).as("the node survived:\n%s", ingest.logTail(30)).isTrue();
            assertThat(ingest.isReady()).isTrue();
            var fetch = FetchServiceGrpc.newBlockingStub(cluster.channel(reader));
            long stored = 0;
            long settleUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            do { // the fetch node learns of the last commits from its index watch, a moment after them
                stored = 0;
                for (int p = 0; p < PARTITIONS; p++) {
                    stored += StrataCluster.endOffset(fetch, TOPIC, p);
                }
            } while (stored < ackedRecords.get() && System.nanoTime() < settleUntil && sleep(200));
            long acked = ackedRecords.get(); // final: the streams are cancelled, the unary calls returned
            System.out.printf("overload: %d s, %d records acknowledged (%d MB), refused %s, resident at most %d MiB%n",
                    seconds, ackedRecords.get(), ackedBytes.get() >> 20, refusals, maxResident.get() >> 20);
            assertThat(maxResident.get()).as("resident memory").isLessThan(RESIDENT_BOUND);
            assertThat(refusals).as("the excess was refused").containsKey(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(refusals.keySet()).isSubsetOf(Status.Code.RESOURCE_EXHAUSTED, Status.Code.DEADLINE_EXCEEDED,
                    Status.Code.INVALID_ARGUMENT);
            assertThat(stored).as("everything acknowledged is stored, and nothing that was not sent")
                    .isBetween(acked, sentRecords.get());
        }
    }
}
