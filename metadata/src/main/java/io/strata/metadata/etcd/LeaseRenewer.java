package io.strata.metadata.etcd;

import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.strata.metadata.MetadataException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Renews session leases one request each, over one long-lived {@code LeaseKeepAlive} stream. jetcd's
 * {@code keepAliveOnce} opens a stream per renewal, which at thousands of group members' heartbeats a second
 * costs etcd most of a core; one stream costs it a request each. etcd answers a stream's requests in order,
 * with the lease id, so an answer completes the oldest renewal of its lease still waiting (TTL 0: the lease
 * is gone). A broken stream fails what waits (retryable) and the next renewal opens another, on the next
 * endpoint.
 *
 * <p>Owns its channel (plaintext endpoints only; the caller uses jetcd for others). Thread-safe: requests
 * are written under the instance's lock.
 */
final class LeaseRenewer implements AutoCloseable {
    private final List<URI> endpoints;
    private final Duration timeout;
    private final Map<Long, ArrayDeque<CompletableFuture<Boolean>>> waiting = new HashMap<>();
    private ManagedChannel channel;
    private StreamObserver<LeaseKeepAliveRequest> requests;
    private int next;
    private boolean closed;

    private LeaseRenewer(List<URI> endpoints, Duration timeout) {
        this.endpoints = endpoints;
        this.timeout = timeout;
    }

    /** A renewer for these endpoints, or null when one of them is not plain http (TLS stays with jetcd). */
    static LeaseRenewer forEndpoints(List<String> endpoints, Duration timeout) {
        List<URI> uris = new ArrayList<>();
        for (String e : endpoints) {
            URI uri = URI.create(e);
            if (!"http".equals(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 0) {
                return null;
            }
            uris.add(uri);
        }
        return new LeaseRenewer(uris, timeout);
    }

    /** Extends the lease by its TTL; false when etcd says it is gone. */
    CompletableFuture<Boolean> renew(long id) {
        CompletableFuture<Boolean> answer = new CompletableFuture<>();
        synchronized (this) {
            if (closed) {
                return CompletableFuture.failedFuture(new MetadataException("the etcd store is closed", false));
            }
            if (requests == null) {
                open();
            }
            waiting.computeIfAbsent(id, x -> new ArrayDeque<>()).add(answer);
            requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
        }
        // A renewal that timed out stays queued: its answer, when it comes, is still the oldest of its lease.
        return answer.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).exceptionallyCompose(e ->
                CompletableFuture.failedFuture(e instanceof java.util.concurrent.TimeoutException
                        || e.getCause() instanceof java.util.concurrent.TimeoutException
                        ? new MetadataException("etcd lease renewal timed out", true, e) : e));
    }

    private void open() {
        URI uri = endpoints.get(next++ % endpoints.size());
        if (channel == null || channel.isShutdown()) {
            channel = NettyChannelBuilder.forAddress(uri.getHost(), uri.getPort()).usePlaintext()
                    .keepAliveTime(10, TimeUnit.SECONDS).keepAliveTimeout(5, TimeUnit.SECONDS).build();
        }
        // Opened outside the caller's gRPC context: a heartbeat call that opens it ends long before the stream,
        // and a call's context cancels the calls made in it when it ends.
        io.grpc.Context previous = io.grpc.Context.ROOT.attach();
        try {
            requests = openStream();
        } finally {
            io.grpc.Context.ROOT.detach(previous);
        }
    }

    private StreamObserver<LeaseKeepAliveRequest> openStream() {
        return LeaseGrpc.newStub(channel).leaseKeepAlive(new StreamObserver<>() {
            @Override
            public void onNext(LeaseKeepAliveResponse response) {
                CompletableFuture<Boolean> answer;
                synchronized (LeaseRenewer.this) {
                    ArrayDeque<CompletableFuture<Boolean>> queue = waiting.get(response.getID());
                    answer = queue == null ? null : queue.poll();
                    if (queue != null && queue.isEmpty()) {
                        waiting.remove(response.getID());
                    }
                }
                if (answer != null) {
                    answer.complete(response.getTTL() > 0);
                }
            }

            @Override
            public void onError(Throwable t) {
                broken(t);
            }

            @Override
            public void onCompleted() {
                broken(new IllegalStateException("etcd ended the lease keep-alive stream"));
            }
        });
    }

    private void broken(Throwable cause) {
        List<CompletableFuture<Boolean>> failed = new ArrayList<>();
        synchronized (this) {
            waiting.values().forEach(failed::addAll);
            waiting.clear();
            requests = null;
            if (channel != null && endpoints.size() > 1) {
                channel.shutdownNow(); // the next stream goes to the next endpoint
                channel = null;
            }
        }
        MetadataException e = new MetadataException("etcd lease renewal stream broke: " + cause, true, cause);
        failed.forEach(f -> f.completeExceptionally(e));
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            if (requests != null) {
                try {
                    requests.onCompleted();
                } catch (RuntimeException e) {
                    // closing anyway
                }
            }
            if (channel != null) {
                channel.shutdownNow();
            }
        }
    }
}
