package io.strata.kafka;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * What one client connection carries from request to request. Requests are handed to the APIs on the
 * connection's event loop, in the order they arrived; {@link #admitAfter} lets an API keep that order for the part
 * of its work that must not overtake an earlier request's (a producer's pipelined batches reach Strata's producer
 * state in the order it sent them, whatever the time each takes to convert). Not thread-safe beyond that: the
 * chain is taken on the event loop.
 */
public final class KafkaSession {
    private final InetSocketAddress client;
    private CompletableFuture<Void> admitted = CompletableFuture.completedFuture(null);

    public KafkaSession(InetSocketAddress client) {
        this.client = client;
    }

    public InetSocketAddress client() {
        return client;
    }

    /**
     * Takes this request's place in the connection's order: answers when every earlier request that took one was
     * admitted, and the future this request must complete once it is admitted (or refused), on every path.
     */
    public Turn admitAfter() {
        CompletableFuture<Void> previous = admitted;
        CompletableFuture<Void> mine = new CompletableFuture<>();
        admitted = mine;
        return new Turn(previous, mine);
    }

    /** A request's place in its connection's order. */
    public record Turn(CompletableFuture<Void> previous, CompletableFuture<Void> admitted) {
    }
}
