package io.strata.server.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.NodeServiceGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Calls to other nodes' node-to-node ports, against in-process servers: the next node is tried only while one
 * cannot be reached, the caller's deadline goes with the call, and channels to nodes gone are closed.
 */
class PeerCallsTest {
    private final List<Server> servers = new ArrayList<>();
    private final Map<String, ManagedChannel> dialed = new ConcurrentHashMap<>();
    private final PeerCalls peers = new PeerCalls(address -> {
        ManagedChannel channel = InProcessChannelBuilder.forName(address).directExecutor().build();
        dialed.put(address, channel);
        return channel;
    }, 60_000);

    @AfterEach
    void close() {
        peers.close();
        servers.forEach(Server::shutdownNow);
    }

    /** A node whose Fetch answers {@code answer}: a response, a status to fail with, or null to never answer. */
    private void node(String name, Object answer) throws Exception {
        servers.add(InProcessServerBuilder.forName(name).directExecutor().addService(new NodeServiceGrpc.NodeServiceImplBase() {
            @Override
            public void fetch(FetchRequest request, StreamObserver<FetchResponse> observer) {
                if (answer instanceof FetchResponse r) {
                    observer.onNext(r);
                    observer.onCompleted();
                } else if (answer instanceof Status s) {
                    observer.onError(s.asRuntimeException());
                }
            }
        }).build().start());
    }

    private CompletableFuture<FetchResponse> fetch(List<String> nodes) {
        return peers.call(nodes, (stub, done) -> stub.fetch(FetchRequest.getDefaultInstance(), done));
    }

    private static Status.Code code(Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        return ((StatusRuntimeException) cause).getStatus().getCode();
    }

    @Test
    void aNodeThatCannotBeReachedIsPassedOverButAnyAnswerOfANodeIsTheCalls() throws Exception {
        node("b", FetchResponse.newBuilder().setNextOffset(7).build());
        node("c", Status.PERMISSION_DENIED.withDescription("nodes only"));
        assertThat(fetch(List.of("gone", "b")).join().getNextOffset()).isEqualTo(7);
        assertThatThrownBy(() -> fetch(List.of("c", "b")).join()).satisfies(t ->
                assertThat(code(t)).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThatThrownBy(() -> fetch(List.of()).join()).satisfies(t ->
                assertThat(code(t)).isEqualTo(Status.Code.UNAVAILABLE));
    }

    @Test
    void theCallersDeadlineGoesWithTheCall() throws Exception {
        node("silent", null);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try {
            Context.CancellableContext caller = Context.current().withDeadlineAfter(200, TimeUnit.MILLISECONDS, timer);
            CompletableFuture<FetchResponse> call = caller.call(() -> fetch(List.of("silent")));
            assertThatThrownBy(() -> call.get(30, TimeUnit.SECONDS)).satisfies(t ->
                    assertThat(code(t.getCause())).as("the caller's 200 ms, not the call's own minute")
                            .isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        } finally {
            timer.shutdownNow();
        }
    }

    @Test
    void theChannelOfANodeNoLongerLiveIsClosed() throws Exception {
        node("old", FetchResponse.getDefaultInstance());
        node("new", FetchResponse.getDefaultInstance());
        fetch(List.of("old")).join();
        fetch(List.of("new")).join(); // "old" came back as "new"
        assertThat(dialed.get("old").isShutdown()).isTrue();
        assertThat(dialed.get("new").isShutdown()).isFalse();
    }
}
