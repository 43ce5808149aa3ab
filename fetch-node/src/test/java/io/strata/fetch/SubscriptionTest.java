package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.SubscribeRequest;
import io.strata.api.v1.SubscribeResponse;
import io.strata.fetch.grpc.FetchHandler;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Subscribe over a real (in-process) gRPC transport, whose flow control is the client's message requests:
 * records are pushed as commits land, and the node prepares nothing the client has not asked for.
 */
class SubscriptionTest extends ReadPathFixture {
    private final AtomicInteger sent = new AtomicInteger();
    private ExecutorService steps;
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void serve() throws Exception {
        steps = Executors.newFixedThreadPool(2);
        FetchHandler fetch = handler;
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor().addService(new FetchServiceGrpc.FetchServiceImplBase() {
            @Override
            public void subscribe(SubscribeRequest request, StreamObserver<SubscribeResponse> observer) {
                fetch.subscribe(request, new Counting((ServerCallStreamObserver<SubscribeResponse>) observer), steps,
                        t -> t instanceof StatusRuntimeException s ? s : Status.INTERNAL.withCause(t).asRuntimeException());
            }
        }).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterEach
    void shut() {
        channel.shutdownNow();
        server.shutdownNow();
        steps.shutdownNow();
    }

    @Test
    void subscriberReceivesEveryRecordInOrderAsCommitsLand() throws Exception {
        Stream stream = subscribe(SubscribeRequest.newBuilder().setTopic("t").setPartition(0).build(), 1000);
        for (int b = 0; b < 5; b++) {
            commit(Map.of(0, values("r" + b + "-", 0, 3)), 1000 * b);
        }
        List<String> seen = new java.util.ArrayList<>();
        long expectedOffset = 0;
        while (seen.size() < 15) {
            SubscribeResponse message = stream.next();
            for (var r : message.getRecords().getRecordsList()) {
                assertThat(r.getOffset()).isEqualTo(expectedOffset++);
                seen.add(r.getValue().toStringUtf8());
            }
        }
        assertThat(seen).startsWith("r0-0", "r0-1", "r0-2", "r1-0").endsWith("r4-2").hasSize(15);
        stream.cancel();
    }

    @Test
    void slowSubscriberIsSentOnlyWhatItAskedFor() throws Exception {
        for (int b = 0; b < 10; b++) {
            commit(Map.of(1, values("s" + b + "-", 0, 2)), 1000 * b);
        }
        awaitEnd(1, 20);
        // One message per chunk: max_bytes below one chunk's size.
        Stream stream = subscribe(SubscribeRequest.newBuilder().setTopic("t").setPartition(1).setMaxBytes(1)
                .setRawChunks(true).build(), 1);
        SubscribeResponse first = stream.next();
        assertThat(first.getChunks().getChunksList()).hasSize(1);
        Thread.sleep(300); // time for a node that ignores flow control to push more
        assertThat(sent.get()).isEqualTo(1);
        assertThat(stream.received.poll(200, TimeUnit.MILLISECONDS)).isNull();
        stream.request(9);
        long next = first.getChunks().getNextOffset();
        for (int i = 0; i < 9; i++) {
            var chunks = stream.next().getChunks();
            assertThat(chunks.getChunks(0).getBaseOffset()).isEqualTo(next);
            next = chunks.getNextOffset();
        }
        assertThat(next).isEqualTo(20);
        assertThat(sent.get()).isEqualTo(10);
        stream.cancel();
    }

    @Test
    void subscribingOutsideThePartitionEndsWithOutOfRange() throws Exception {
        commit(Map.of(2, values("x", 0, 4)), 1000);
        awaitEnd(2, 4);
        Stream stream = subscribe(SubscribeRequest.newBuilder().setTopic("t").setPartition(2).setOffset(9).build(), 1);
        Throwable error = stream.error.get(5, TimeUnit.SECONDS);
        assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.OUT_OF_RANGE);
        assertThat(Status.fromThrowable(error).getDescription()).contains("[0, 4]");
    }

    private Stream subscribe(SubscribeRequest request, int initialRequests) {
        Stream stream = new Stream(initialRequests);
        FetchServiceGrpc.newStub(channel).subscribe(request, stream);
        return stream;
    }

    /** A client that asks for messages only as the test says (manual flow control). */
    private static final class Stream implements ClientResponseObserver<SubscribeRequest, SubscribeResponse> {
        final LinkedBlockingQueue<SubscribeResponse> received = new LinkedBlockingQueue<>();
        final java.util.concurrent.CompletableFuture<Throwable> error = new java.util.concurrent.CompletableFuture<>();
        private final int initial;
        private final AtomicReference<ClientCallStreamObserver<SubscribeRequest>> call = new AtomicReference<>();

        Stream(int initial) {
            this.initial = initial;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<SubscribeRequest> requestStream) {
            call.set(requestStream);
            requestStream.disableAutoRequestWithInitial(initial);
        }

        SubscribeResponse next() throws InterruptedException {
            SubscribeResponse message = received.poll(10, TimeUnit.SECONDS);
            assertThat(message).as("a message within 10 s").isNotNull();
            if (initial > 1) {
                call.get().request(1);
            }
            return message;
        }

        void request(int n) {
            call.get().request(n);
        }

        void cancel() {
            call.get().cancel("test done", null);
        }

        @Override
        public void onNext(SubscribeResponse value) {
            received.add(value);
        }

        @Override
        public void onError(Throwable t) {
            error.complete(t);
        }

        @Override
        public void onCompleted() {
            error.complete(null);
        }
    }

    /** Counts what the node hands to gRPC, to show it holds back for a slow client. */
    private final class Counting extends ServerCallStreamObserver<SubscribeResponse> {
        private final ServerCallStreamObserver<SubscribeResponse> inner;

        Counting(ServerCallStreamObserver<SubscribeResponse> inner) {
            this.inner = inner;
        }

        @Override
        public void onNext(SubscribeResponse value) {
            sent.incrementAndGet();
            inner.onNext(value);
        }

        @Override
        public void onError(Throwable t) {
            inner.onError(t);
        }

        @Override
        public void onCompleted() {
            inner.onCompleted();
        }

        @Override
        public boolean isCancelled() {
            return inner.isCancelled();
        }

        @Override
        public void setOnCancelHandler(Runnable onCancelHandler) {
            inner.setOnCancelHandler(onCancelHandler);
        }

        @Override
        public void setCompression(String compression) {
            inner.setCompression(compression);
        }

        @Override
        public boolean isReady() {
            return inner.isReady();
        }

        @Override
        public void setOnReadyHandler(Runnable onReadyHandler) {
            inner.setOnReadyHandler(onReadyHandler);
        }

        @Override
        public void request(int count) {
            inner.request(count);
        }

        @Override
        public void setMessageCompression(boolean enable) {
            inner.setMessageCompression(enable);
        }

        @Override
        public void disableAutoInboundFlowControl() {
            inner.disableAutoInboundFlowControl();
        }
    }
}
