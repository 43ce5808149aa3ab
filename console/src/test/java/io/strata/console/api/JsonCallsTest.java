package io.strata.console.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.DescribeTopicRequest;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.ListTopicsRequest;
import io.strata.api.v1.ListTopicsResponse;
import io.strata.api.v1.TopicDescription;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The JSON door against real gRPC services on an in-process server, as the node wires it. */
class JsonCallsTest {
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final ConcurrentLinkedQueue<Map<String, String>> seenHeaders = new ConcurrentLinkedQueue<>();
    private final AtomicInteger describes = new AtomicInteger();
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile FetchRequest lastFetch;
    private Server server;
    private ManagedChannel channel;
    private List<ServerServiceDefinition> services;

    /** Topics: one named "orders"; "slow" waits for the test; any other is unknown. */
    private final class Topics extends AdminServiceGrpc.AdminServiceImplBase {
        @Override
        public void listTopics(ListTopicsRequest request, StreamObserver<ListTopicsResponse> observer) {
            observer.onNext(ListTopicsResponse.newBuilder().addTopics(TopicDescription.newBuilder().setName("orders")
                    .setTopicId(1L << 40).setPartitions(3)).build());
            observer.onCompleted();
        }

        @Override
        public void describeTopic(DescribeTopicRequest request, StreamObserver<TopicDescription> observer) {
            describes.incrementAndGet();
            if (request.getName().equals("slow")) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            observer.onError(Status.NOT_FOUND.withDescription("unknown topic '" + request.getName() + "'")
                    .asRuntimeException());
        }
    }

    private final class Records extends FetchServiceGrpc.FetchServiceImplBase {
        @Override
        public void fetch(FetchRequest request, StreamObserver<FetchResponse> observer) {
            lastFetch = request;
            observer.onNext(FetchResponse.newBuilder().setNextOffset(request.getOffset()).build());
            observer.onCompleted();
        }
    }

    @BeforeEach
    void start() throws Exception {
        ServerInterceptor headers = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata md,
                                                               ServerCallHandler<Q, R> next) {
                String auth = md.get(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER));
                String caller = md.get(JsonCalls.CALLER);
                seenHeaders.add(Map.of("authorization", String.valueOf(auth), "caller", String.valueOf(caller)));
                return next.startCall(call, md);
            }
        };
        services = List.of(ServerInterceptors.intercept(new Topics(), headers),
                ServerInterceptors.intercept(new Records(), headers));
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name).executor(executor);
        services.forEach(builder::addService);
        server = builder.build().start();
        channel = InProcessChannelBuilder.forName(name).executor(executor).build();
    }

    @AfterEach
    void stop() {
        release.countDown();
        channel.shutdownNow();
        server.shutdownNow();
        executor.shutdownNow();
    }

    private JsonCalls calls(int maxConcurrent, Duration maxTimeout) {
        return new JsonCalls(channel, services, Map.of(FetchServiceGrpc.getFetchMethod().getFullMethodName(),
                m -> ((FetchRequest) m).toBuilder().setMaxBytes(Math.min(((FetchRequest) m).getMaxBytes(), 1024))
                        .build()), maxConcurrent, Duration.ofSeconds(5), maxTimeout, executor);
    }

    private static JsonCalls.Answer get(CompletableFuture<JsonCalls.Answer> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aUnaryMethodAnswersInProto3Json() throws Exception {
        JsonCalls.Answer a = get(calls(4, Duration.ofSeconds(5)).call("strata.v1.AdminService/ListTopics", "{}",
                null, null, null));
        assertThat(a.status()).isEqualTo(200);
        // int64 as a string, lowerCamelCase names, fields left at their default printed.
        assertThat(a.json()).contains("\"name\":\"orders\"", "\"topicId\":\"1099511627776\"", "\"partitions\":3",
                "\"retentionMs\":\"0\"");
    }

    @Test
    void aStatusBecomesAConnectErrorWithItsHttpStatus() throws Exception {
        JsonCalls.Answer a = get(calls(4, Duration.ofSeconds(5)).call("strata.v1.AdminService/DescribeTopic",
                "{\"name\":\"x\\\"<y>\"}", null, null, null));
        assertThat(a.status()).isEqualTo(404);
        assertThat(a.json()).isEqualTo("{\"code\":\"not_found\",\"message\":\"unknown topic 'x\\\"<y>'\"}");
    }

    @Test
    void aRequestThatIsNotTheMessageIsRefusedBeforeAnyServiceSeesIt() throws Exception {
        JsonCalls calls = calls(4, Duration.ofSeconds(5));
        for (String json : List.of("{\"nmae\":\"orders\"}", "{\"name\":3", "[]")) {
            JsonCalls.Answer a = get(calls.call("strata.v1.AdminService/DescribeTopic", json, null, null, null));
            assertThat(a.status()).as(json).isEqualTo(400);
            assertThat(a.json()).as(json).contains("\"code\":\"invalid_argument\"", "strata.v1.DescribeTopicRequest");
        }
        assertThat(describes).hasValue(0);
        assertThat(get(calls.call("strata.v1.AdminService/DescribeTopic", "{}", null, "soon", null)).status())
                .isEqualTo(400);
    }

    @Test
    void streamsAndUnknownMethodsAreNotFound() throws Exception {
        JsonCalls calls = calls(4, Duration.ofSeconds(5));
        for (String method : List.of("strata.v1.FetchService/Subscribe", "strata.v1.AdminService/Nope", "../etc")) {
            JsonCalls.Answer a = get(calls.call(method, "{}", null, null, null));
            assertThat(a.status()).as(method).isEqualTo(404);
            assertThat(a.json()).contains("not_found");
        }
        assertThat(calls.callable("strata.v1.AdminService/ListTopics")).isTrue();
        assertThat(calls.callable("strata.v1.FetchService/Subscribe")).isFalse();
    }

    @Test
    void theCallersCredentialsAndAddressTravelWithTheCall() throws Exception {
        get(calls(4, Duration.ofSeconds(5)).call("strata.v1.AdminService/ListTopics", "", "Basic YWxpY2U6cHc=", null,
                "10.0.0.7:5123"));
        get(calls(4, Duration.ofSeconds(5)).call("strata.v1.AdminService/ListTopics", "", null, null, null));
        assertThat(seenHeaders).containsExactly(Map.of("authorization", "Basic YWxpY2U6cHc=", "caller", "10.0.0.7:5123"),
                Map.of("authorization", "null", "caller", "null"));
    }

    @Test
    void aMethodsRequestIsShapedBeforeItIsSent() throws Exception {
        JsonCalls.Answer a = get(calls(4, Duration.ofSeconds(5)).call("strata.v1.FetchService/Fetch",
                "{\"topic\":\"orders\",\"offset\":\"7\",\"maxBytes\":2000000000}", null, null, null));
        assertThat(a.status()).isEqualTo(200);
        assertThat(lastFetch.getMaxBytes()).isEqualTo(1024);
        assertThat(lastFetch.getOffset()).isEqualTo(7);
    }

    @Test
    void callsBeyondTheBoundAreRefusedAtOnceAndTheSlotsComeBack() throws Exception {
        JsonCalls calls = calls(1, Duration.ofSeconds(5));
        CompletableFuture<JsonCalls.Answer> slow = calls.call("strata.v1.AdminService/DescribeTopic",
                "{\"name\":\"slow\"}", null, null, null);
        JsonCalls.Answer refused = get(calls.call("strata.v1.AdminService/ListTopics", "{}", null, null, null));
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.json()).contains("resource_exhausted");
        release.countDown();
        assertThat(get(slow).status()).isEqualTo(404);
        assertThat(get(calls.call("strata.v1.AdminService/ListTopics", "{}", null, null, null)).status()).isEqualTo(200);
    }

    @Test
    void aCallerThatGoesAwayKeepsItsSlotUntilTheCallEndsSoLeavingPilesNoWorkUp() throws Exception {
        JsonCalls calls = calls(1, Duration.ofSeconds(5));
        CompletableFuture<JsonCalls.Answer> slow = calls.call("strata.v1.AdminService/DescribeTopic",
                "{\"name\":\"slow\"}", null, null, null);
        Thread.sleep(200);
        slow.cancel(true);
        assertThat(get(calls.call("strata.v1.AdminService/ListTopics", "{}", null, null, null)).status())
                .isEqualTo(429);
        release.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        JsonCalls.Answer next;
        do {
            next = get(calls.call("strata.v1.AdminService/ListTopics", "{}", null, null, null));
        } while (next.status() == 429 && System.nanoTime() < deadline);
        assertThat(next.status()).isEqualTo(200);
    }

    @Test
    void aCallLongerThanTheLongestAllowedEndsAtItsDeadline() throws Exception {
        JsonCalls.Answer a = get(calls(4, Duration.ofMillis(200)).call("strata.v1.AdminService/DescribeTopic",
                "{\"name\":\"slow\"}", null, "60000", null));
        assertThat(a.status()).isEqualTo(504);
        assertThat(a.json()).contains("deadline_exceeded");
    }
}
