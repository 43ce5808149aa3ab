package io.strata.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.ingest.grpc.ProduceHandler;
import io.strata.ingest.grpc.OpenProduceStreams;
import io.strata.ingest.grpc.ProduceStream;
import io.strata.ingest.grpc.ProducerIds;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.TopicCache;
import io.strata.metadata.TopicConfig;
import io.strata.storage.object.local.LocalObjectStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ProduceStream over a real (in-process) gRPC transport: ordered answers, per-request errors, flow control. */
class ProduceStreamTest {
    private static final int WINDOW = 4;
    @TempDir
    Path dir;
    private MetadataStore metadata;
    private FaultInjectingObjectStore objects;
    private IngestPipeline pipeline;
    private ProduceHandler handler;
    private Server server;
    private ManagedChannel channel;
    private final AtomicInteger received = new AtomicInteger();
    private final OpenProduceStreams open = new OpenProduceStreams();

    /** The first topic look-up takes 300 ms (a slow metadata store); everything else is the real store. */
    private static MetadataStore slowFirstTopicLookup(MetadataStore real) {
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        return (MetadataStore) java.lang.reflect.Proxy.newProxyInstance(MetadataStore.class.getClassLoader(),
                new Class<?>[] {MetadataStore.class}, (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("getTopic") && first.getAndSet(false)) {
                        return ((CompletableFuture<?>) result).thenCompose(v -> CompletableFuture.supplyAsync(() -> v,
                                CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS)));
                    }
                    return result;
                });
    }

    @BeforeEach
    void start() throws Exception {
        metadata = slowFirstTopicLookup(MetadataStores.embedded(dir.resolve("metadata"), 8));
        objects = new FaultInjectingObjectStore(new LocalObjectStore(dir.resolve("objects")));
        IngestSettings settings = new IngestSettings(1 << 20, Duration.ofMillis(10), 8 << 20, Duration.ofSeconds(5),
                1024, 64 * 1024, Duration.ofSeconds(20), 3, "stream-node", 4, IngestSettings.DEFAULT_PUT_HEDGE_AFTER,
                IngestSettings.DEFAULT_PUT_HEDGE_QUANTILE, false);
        pipeline = new IngestPipeline(settings, objects, metadata, Clock.systemUTC());
        handler = new ProduceHandler(pipeline, new TopicCache(metadata, Clock.systemUTC(), Duration.ofSeconds(1)),
                new ProducerIds(metadata), Clock.systemUTC());
        metadata.createTopic(new TopicConfig("t", 2, -1, -1)).join();
        String name = "produce-stream-" + System.nanoTime();
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(new ProducerServiceGrpc.ProducerServiceImplBase() {
                    @Override
                    public StreamObserver<ProduceRequest> produceStream(StreamObserver<ProduceResponse> responses) {
                        return ProduceStream.start(responses, (request, admitted) -> {
                            received.incrementAndGet();
                            return handler.produce(request, admitted);
                        }, handler.pending(), WINDOW, timed::add, open);
                    }
                }).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
        pipeline.close();
        objects.close();
        metadata.close();
    }

    /** What the stream reported as answered durable requests' times. */
    private final List<Long> timed = new CopyOnWriteArrayList<>();

    private static ProduceRequest request(long id, String topic, String value) {
        return ProduceRequest.newBuilder().setRequestId(id).addEntries(TopicPartitionRecords.newBuilder()
                .setTopic(topic).setPartition(0).addRecords(Record.newBuilder()
                        .setValue(ByteString.copyFromUtf8(value)))).build();
    }

    private record Collector(List<ProduceResponse> responses, CompletableFuture<Void> done)
            implements StreamObserver<ProduceResponse> {
        Collector() {
            this(new CopyOnWriteArrayList<>(), new CompletableFuture<>());
        }

        @Override
        public void onNext(ProduceResponse value) {
            responses.add(value);
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            done.complete(null);
        }
    }

    @Test
    void everyRequestGetsOneAnswerInRequestOrderAndABadOneDoesNotEndTheStream() throws Exception {
        Collector collector = new Collector();
        StreamObserver<ProduceRequest> requests = ProducerServiceGrpc.newStub(channel).produceStream(collector);
        for (int i = 0; i < 30; i++) {
            requests.onNext(request(i, i == 7 ? "missing" : "t", "v" + i));
        }
        requests.onCompleted();
        collector.done().get(30, TimeUnit.SECONDS);
        assertThat(collector.responses()).extracting(ProduceResponse::getRequestId)
                .containsExactlyElementsOf(java.util.stream.LongStream.range(0, 30).boxed().toList());
        assertThat(timed).as("every durable request answered is timed once, the failed one not").hasSize(29)
                .allSatisfy(nanos -> assertThat(nanos).isPositive());
        ProduceResponse bad = collector.responses().get(7);
        assertThat(bad.getError().getCode()).isEqualTo(Status.Code.NOT_FOUND.value());
        assertThat(bad.getError().getMessage()).contains("missing");
        long expected = 0;
        for (ProduceResponse r : collector.responses()) {
            if (r.getRequestId() != 7) {
                assertThat(r.hasError()).isFalse();
                assertThat(r.getAppends(0).getBaseOffset()).isEqualTo(expected++);
            }
        }
    }

    @Test
    void requestsAnsweredOnceBufferedAreNotTimedWithTheDurableOnes() throws Exception {
        Collector collector = new Collector();
        StreamObserver<ProduceRequest> requests = ProducerServiceGrpc.newStub(channel).produceStream(collector);
        for (int i = 0; i < 10; i++) {
            ProduceRequest r = request(i, "t", "v" + i);
            requests.onNext(i % 2 == 0 ? r : r.toBuilder().setAcks(io.strata.api.v1.Acks.ACKS_NONE).build());
        }
        requests.onCompleted();
        collector.done().get(30, TimeUnit.SECONDS);
        assertThat(collector.responses()).hasSize(10).noneMatch(ProduceResponse::hasError);
        assertThat(timed).hasSize(5);
        awaitNoOpenStream(); // a stream its client completed leaves the node's open streams
    }

    @Test
    void requestsPipelinedOnAStreamAreStoredInTheOrderSentEvenWhenTheFirstWaitsForMetadata() throws Exception {
        Collector collector = new Collector();
        StreamObserver<ProduceRequest> requests = ProducerServiceGrpc.newStub(channel).produceStream(collector);
        for (int i = 0; i < 20; i++) {
            requests.onNext(request(i, "t", "r" + i));
        }
        requests.onCompleted();
        collector.done().get(30, TimeUnit.SECONDS);
        for (int i = 0; i < 20; i++) {
            ProduceResponse r = collector.responses().get(i);
            assertThat(r.hasError()).isFalse();
            assertThat(r.getAppends(0).getBaseOffset()).as("request %d", i).isEqualTo(i);
        }
    }

    @Test
    void aStreamEndedByItsStoppingNodeAnswersWhatItReadThenEndsUnavailableAndSoDoesOneOpenedLater() throws Exception {
        objects.holdPuts(true);
        Collector collector = new Collector();
        StreamObserver<ProduceRequest> requests = ProducerServiceGrpc.newStub(channel).produceStream(collector);
        for (int i = 0; i < 3; i++) {
            requests.onNext(request(i, "t", "v" + i));
        }
        awaitUpTo10s(() -> received.get() >= 3);
        assertThat(open.size()).isEqualTo(1);

        assertThat(open.endAll(Status.UNAVAILABLE.withDescription("stopping"))).isEqualTo(1);
        requests.onNext(request(3, "t", "v3")); // not read: the stream is ending
        Thread.sleep(200);
        assertThat(collector.done()).as("ended only once its answers are sent").isNotDone();
        objects.holdPuts(false);

        assertThat(collector.done()).failsWithin(30, TimeUnit.SECONDS).withThrowableThat()
                .havingRootCause().isInstanceOf(io.grpc.StatusRuntimeException.class).withMessage("UNAVAILABLE: stopping");
        assertThat(collector.responses()).extracting(ProduceResponse::getRequestId).containsExactly(0L, 1L, 2L);
        assertThat(collector.responses()).noneMatch(ProduceResponse::hasError);
        assertThat(received.get()).isEqualTo(3);
        awaitNoOpenStream();
        Collector later = new Collector();
        ProducerServiceGrpc.newStub(channel).produceStream(later);
        assertThat(later.done()).failsWithin(10, TimeUnit.SECONDS).withThrowableThat()
                .havingRootCause().withMessage("UNAVAILABLE: stopping");
        awaitNoOpenStream();
    }

    @Test
    void aStreamItsClientCancelsLeavesTheNodesOpenStreams() throws Exception {
        var call = channel.newCall(ProducerServiceGrpc.getProduceStreamMethod(), io.grpc.CallOptions.DEFAULT);
        StreamObserver<ProduceRequest> requests = io.grpc.stub.ClientCalls.asyncBidiStreamingCall(call, new Collector());
        requests.onNext(request(0, "t", "v0"));
        awaitUpTo10s(() -> open.size() > 0);
        assertThat(open.size()).isEqualTo(1);
        call.cancel("gone", null);
        awaitNoOpenStream();
    }

    private void awaitNoOpenStream() throws InterruptedException {
        awaitUpTo10s(() -> open.size() == 0);
        assertThat(open.size()).as("streams the node holds open").isZero();
    }

    /** Waits until {@code condition} holds or 10 s passed; the caller asserts what it needs. */
    private static void awaitUpTo10s(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean() && System.nanoTime() < until) {
            Thread.sleep(10);
        }
    }

    @Test
    void aStreamTakesNoMoreRequestsThanItsWindowWhileUploadsAreStuck() throws Exception {
        objects.holdPuts(true);
        Collector collector = new Collector();
        StreamObserver<ProduceRequest> requests = ProducerServiceGrpc.newStub(channel).produceStream(collector);
        for (int i = 0; i < 50; i++) {
            requests.onNext(request(i, "t", "v" + i));
        }
        awaitUpTo10s(() -> received.get() >= WINDOW); // the first waits for a slow metadata look-up, the rest behind it
        Thread.sleep(300);
        assertThat(received.get()).as("requests pulled while nothing is answered").isEqualTo(WINDOW);
        objects.holdPuts(false);
        requests.onCompleted();
        collector.done().get(30, TimeUnit.SECONDS);
        assertThat(collector.responses()).hasSize(50);
        assertThat(received.get()).isEqualTo(50);
    }
}
