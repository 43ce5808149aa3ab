package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Metadata;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.ClusterServiceGrpc;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.GroupServiceGrpc;
import io.strata.api.v1.ProducerServiceGrpc;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every client RPC of every service, called on a real node with malformed requests: the empty request, every
 * name far too long (up to 100 KB: an answer never echoes it whole, and stays small enough to arrive), names of things that do not exist with every number -1, and an existing topic's name
 * with every number -1. Each call must end before its deadline (a malformed call is answered at once, never
 * left to wait) with a precise status: OK where the request is in fact valid, otherwise one of the statuses
 * that say what is wrong with it — never {@code UNKNOWN}, {@code INTERNAL} or a deadline. A streaming
 * answer to a malformed request ends with its error; a produce stream's answer carries it.
 */
class MalformedCallsTest {
    private static final Set<Status.Code> PRECISE = Set.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
            Status.Code.NOT_FOUND, Status.Code.FAILED_PRECONDITION, Status.Code.OUT_OF_RANGE,
            Status.Code.ALREADY_EXISTS);

    @TempDir
    Path work;

    /** A request of {@code method}'s type with every string (and repeated string) and number set. */
    private static Message variant(MethodDescriptor<?, ?> method, String text, long number) {
        Message prototype = (Message) ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller())
                .getMessagePrototype();
        Message.Builder builder = prototype.newBuilderForType();
        if (text == null) {
            return builder.build();
        }
        for (FieldDescriptor field : prototype.getDescriptorForType().getFields()) {
            Object value = switch (field.getJavaType()) {
                case STRING -> text;
                case INT -> (int) number;
                case LONG -> number;
                default -> null;
            };
            if (value == null) {
                continue;
            }
            if (field.isRepeated()) {
                builder.addRepeatedField(field, value);
            } else {
                builder.setField(field, value);
            }
        }
        return builder.build();
    }

    /** Calls {@code method} with {@code request} (half-closing a stream after it); the status it ends with. */
    @SuppressWarnings("unchecked")
    private static Status call(ManagedChannel channel, MethodDescriptor<?, ?> method, Message request,
                               List<String> errorsInAnswers) throws Exception {
        MethodDescriptor<Message, Message> m = (MethodDescriptor<Message, Message>) method;
        ClientCall<Message, Message> call = channel.newCall(m, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS));
        CompletableFuture<Status> closed = new CompletableFuture<>();
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(Message message) {
                FieldDescriptor error = message.getDescriptorForType().findFieldByName("error");
                if (error != null && message.hasField(error)) {
                    errorsInAnswers.add(String.valueOf(message.getField(error)));
                }
                call.request(1);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                closed.complete(status);
            }
        }, new Metadata());
        call.request(1);
        call.sendMessage(request);
        call.halfClose();
        return closed.get(30, TimeUnit.SECONDS);
    }

    @Test
    void everyRpcAnswersMalformedRequestsAtOnceWithAPreciseStatus() throws Exception {
        try (StrataCluster cluster = new StrataCluster(work)) {
            StrataProcess node = cluster.start("node", "ingest,fetch");
            ManagedChannel channel = cluster.channel(node);
            List<ServiceDescriptor> services = List.of(AdminServiceGrpc.getServiceDescriptor(),
                    ClusterServiceGrpc.getServiceDescriptor(), FetchServiceGrpc.getServiceDescriptor(),
                    GroupServiceGrpc.getServiceDescriptor(), ProducerServiceGrpc.getServiceDescriptor(),
                    io.strata.api.v1.ShareServiceGrpc.getServiceDescriptor());
            List<String> wrong = new ArrayList<>();
            int calls = 0;
            for (ServiceDescriptor service : services) {
                for (MethodDescriptor<?, ?> method : service.getMethods()) {
                    if (method.getBareMethodName().startsWith("Delete")) {
                        continue; // called last, below: they would take the topic away from the others
                    }
                    calls += check(cluster, node, channel, method, wrong);
                }
            }
            for (ServiceDescriptor service : services) {
                for (MethodDescriptor<?, ?> method : service.getMethods()) {
                    if (method.getBareMethodName().startsWith("Delete")) {
                        calls += check(cluster, node, channel, method, wrong);
                    }
                }
            }
            System.out.printf("malformed calls: %d calls to %d methods, %d answered imprecisely or late%n", calls,
                    services.stream().mapToInt(s -> s.getMethods().size()).sum(), wrong.size());
            assertThat(wrong).as("calls answered late or imprecisely").isEmpty();
            assertSpeakingHttp1IsOneEscapedLogLine(node, channel);
        }
    }

    /**
     * What a peer's bytes make grpc-java log costs one line each, never a stack: a peer that does not speak gRPC
     * (HTTP/1 here, a newline in its request line), and a message over the size limit on an open stream.
     */
    private static void assertSpeakingHttp1IsOneEscapedLogLine(StrataProcess node, ManagedChannel channel)
            throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", node.port())) {
            socket.getOutputStream().write("GET /\nforged HTTP/1.1\r\nHost: x\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.setSoTimeout(5_000);
            socket.getInputStream().readAllBytes(); // the node answers with GOAWAY and closes
        }
        io.grpc.StatusRuntimeException tooBig = org.junit.jupiter.api.Assertions.assertThrows(
                io.grpc.StatusRuntimeException.class, () -> AdminServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(10, TimeUnit.SECONDS).describeTopic(io.strata.api.v1.DescribeTopicRequest
                                .newBuilder().setName("x".repeat(10 << 20)).build()));
        assertThat(tooBig.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        String http1 = "Http2Exception: Unexpected HTTP/1.x request: GET /\\nforged";
        String oversized = "Exception processing message (caused by the peer): "
                + "StatusRuntimeException: RESOURCE_EXHAUSTED";
        List<String> lines = List.of();
        for (int i = 0; i < 50 && !(String.join("\n", lines).contains(http1)
                && String.join("\n", lines).contains(oversized)); i++) {
            Thread.sleep(100);
            lines = node.logTail(1_000).lines().toList();
        }
        for (String expected : List.of(http1, oversized)) {
            int at = -1;
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).contains(expected)) {
                    at = i;
                }
            }
            assertThat(at).as("the node's log says '%s':%n%s", expected, String.join("\n", lines)).isNotNegative();
            assertThat(lines.get(at)).contains(" INFO ");
            if (at + 1 < lines.size()) {
                assertThat(lines.get(at + 1)).as("the line after '%s'", expected).doesNotStartWith("\tat ")
                        .doesNotStartWith("forged");
            }
        }
    }

    /**
     * One client address is held to its connections, one principal to its streams, and the Kafka listener to its
     * connections per address: past each bound the client is refused precisely (RESOURCE_EXHAUSTED, or a closed
     * socket) and gets room back as its own close.
     */
    @Test
    void oneClientIsHeldToItsConnectionsAndStreams() throws Exception {
        try (StrataCluster cluster = new StrataCluster(java.nio.file.Files.createDirectories(work.resolve("bounds")))) {
            StrataProcess node = cluster.start("node", "ingest,fetch", java.util.Map.of(
                    "strata.grpc.max-connections-per-address", "3", "strata.grpc.max-streams-per-principal", "4",
                    "strata.kafka.max-connections-per-address", "2"));
            ManagedChannel first = cluster.channel(node);
            AdminServiceGrpc.newBlockingStub(first).createTopic(io.strata.api.v1.CreateTopicRequest.newBuilder()
                    .setName("t").setPartitions(1).build());

            List<ClientCall<io.strata.api.v1.SubscribeRequest, io.strata.api.v1.SubscribeResponse>> open = new ArrayList<>();
            List<CompletableFuture<Status>> ends = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                CompletableFuture<Status> end = new CompletableFuture<>();
                open.add(subscribe(first, end));
                ends.add(end);
            }
            Status fifth = ends.get(4).get(10, TimeUnit.SECONDS);
            assertThat(fifth.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(fifth.getDescription()).contains("strata.grpc.max-streams-per-principal");
            assertThat(ends.subList(0, 4)).noneMatch(CompletableFuture::isDone);
            open.get(0).cancel("done", null);
            CompletableFuture<Status> again = new CompletableFuture<>();
            subscribe(first, again);
            Thread.sleep(500);
            assertThat(again).as("a stream opened once one closed").isNotDone();

            io.strata.api.v1.ListTopicsRequest list = io.strata.api.v1.ListTopicsRequest.getDefaultInstance();
            ManagedChannel second = cluster.channel(node);
            ManagedChannel third = cluster.channel(node);
            AdminServiceGrpc.newBlockingStub(second).listTopics(list);
            AdminServiceGrpc.newBlockingStub(third).listTopics(list);
            ManagedChannel fourth = cluster.channel(node);
            io.grpc.StatusRuntimeException crowded = org.junit.jupiter.api.Assertions.assertThrows(
                    io.grpc.StatusRuntimeException.class, () -> AdminServiceGrpc.newBlockingStub(fourth).listTopics(list));
            assertThat(crowded.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(crowded.getStatus().getDescription()).contains("strata.grpc.max-connections-per-address");
            second.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            fourth.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            boolean served = false;
            for (int i = 0; i < 50 && !served; i++) {
                Thread.sleep(100); // the node hears of the closed connection a moment later
                try {
                    AdminServiceGrpc.newBlockingStub(cluster.channel(node)).listTopics(list);
                    served = true;
                } catch (io.grpc.StatusRuntimeException e) {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                }
            }
            assertThat(served).as("a connection served once one of the address's closed").isTrue();

            String[] kafka = node.kafkaAddress().split(":");
            try (java.net.Socket one = new java.net.Socket(kafka[0], Integer.parseInt(kafka[1]));
                 java.net.Socket two = new java.net.Socket(kafka[0], Integer.parseInt(kafka[1]));
                 java.net.Socket three = new java.net.Socket(kafka[0], Integer.parseInt(kafka[1]))) {
                // The node takes connections in on two threads: which of the three it counts third is its choice.
                List<java.net.Socket> sockets = List.of(one, two, three);
                java.util.Set<java.net.Socket> closed = new java.util.HashSet<>();
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (closed.isEmpty() && System.nanoTime() < until) {
                    for (java.net.Socket s : sockets) {
                        if (isClosed(s, 100)) {
                            closed.add(s);
                        }
                    }
                }
                assertThat(closed).as("one of three Kafka connections from one address is closed").hasSize(1);
                for (java.net.Socket s : sockets) {
                    if (!closed.contains(s)) {
                        assertThat(isClosed(s, 300)).as("the other two stay open").isFalse();
                    }
                }
            }
        }
    }

    /** Whether the peer closed the socket (read at its end, or reset) within {@code waitMs}; false on a timeout. */
    private static boolean isClosed(java.net.Socket socket, int waitMs) throws java.io.IOException {
        socket.setSoTimeout(waitMs);
        try {
            return socket.getInputStream().read() == -1;
        } catch (java.net.SocketTimeoutException open) {
            return false;
        } catch (java.net.SocketException reset) {
            return true;
        }
    }

    private static ClientCall<io.strata.api.v1.SubscribeRequest, io.strata.api.v1.SubscribeResponse> subscribe(
            ManagedChannel channel, CompletableFuture<Status> end) {
        ClientCall<io.strata.api.v1.SubscribeRequest, io.strata.api.v1.SubscribeResponse> call =
                channel.newCall(FetchServiceGrpc.getSubscribeMethod(), CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                end.complete(status);
            }
        }, new Metadata());
        call.request(10);
        call.sendMessage(io.strata.api.v1.SubscribeRequest.newBuilder().setTopic("t").setPartition(0).build());
        call.halfClose();
        return call;
    }

    private static int check(StrataCluster cluster, StrataProcess node, ManagedChannel channel,
                             MethodDescriptor<?, ?> method, List<String> wrong) throws Exception {
        ensureTopic(cluster, node);
        // 20 KB and 100 KB names: an answer that echoed them whole outgrew HTTP/2's trailers and hung the call and
        // the later calls of its connection (every variant here runs on the same channel).
        Object[][] variants = {{"empty", null, 0L}, {"over-long names", "x".repeat(300), 1L},
            {"20 KB names", "x".repeat(20_000), 1L}, {"100 KB names", "x".repeat(100_000), 1L},
            {"unknown names, -1 numbers", "no-such-thing", -1L}, {"an existing topic, -1 numbers", "t", -1L}};
        for (Object[] v : variants) {
            Message request = variant(method, (String) v[1], (Long) v[2]);
            List<String> errorsInAnswers = new ArrayList<>();
            Status status = call(channel, method, request, errorsInAnswers);
            boolean streamOfAnswers = method.getType() == MethodDescriptor.MethodType.BIDI_STREAMING;
            if (!PRECISE.contains(status.getCode())) {
                wrong.add(method.getFullMethodName() + " with " + v[0] + ": " + status);
            } else if (status.getDescription() != null && status.getDescription().length() > 1_000) {
                wrong.add(method.getFullMethodName() + " with " + v[0] + ": a description of "
                        + status.getDescription().length() + " characters");
            } else if (errorsInAnswers.stream().anyMatch(e -> e.length() > 1_000)) {
                wrong.add(method.getFullMethodName() + " with " + v[0] + ": an error in an answer echoes the input");
            } else if (streamOfAnswers && status.isOk() && errorsInAnswers.isEmpty() && v[1] != null) {
                wrong.add(method.getFullMethodName() + " with " + v[0] + ": accepted");
            }
        }
        return variants.length;
    }

    private static void ensureTopic(StrataCluster cluster, StrataProcess node) {
        try {
            cluster.createTopic(node, "t", 2);
        } catch (io.grpc.StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.ALREADY_EXISTS) {
                throw e;
            }
        }
    }
}
