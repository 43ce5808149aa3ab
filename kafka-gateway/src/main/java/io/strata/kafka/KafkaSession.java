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
    /** Who the connection authenticated as (a client certificate, or SASL); null until then. */
    private volatile io.strata.security.Identity identity;
    private volatile javax.security.sasl.SaslServer sasl;
    private volatile String mechanism;
    private final java.util.concurrent.atomic.AtomicBoolean saslStep = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean saslFailed;
    private volatile long validUntilMs = Long.MAX_VALUE;
    /**
     * System.nanoTime() until which the connection's next requests wait: its principal is over its quota. Starts
     * now, not at 0: nanoTime may be negative.
     */
    private final java.util.concurrent.atomic.AtomicLong throttledUntil =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime());

    public KafkaSession(InetSocketAddress client) {
        this(client, null);
    }

    /** A connection that proved {@code identity} in its TLS handshake (a client certificate), or null. */
    public KafkaSession(InetSocketAddress client, io.strata.security.Identity identity) {
        this.client = client;
        this.identity = identity;
    }

    public io.strata.security.Identity identity() {
        return identity;
    }

    /**
     * Who the connection's requests come from: its signed-in identity, else anonymous where authentication is not
     * required, else nobody yet (null: a SASL exchange, the only thing such a connection may send).
     */
    public io.strata.security.Identity caller(boolean authRequired) {
        io.strata.security.Identity who = identity;
        return who != null ? who : authRequired ? null : io.strata.security.Identity.ANONYMOUS;
    }

    /** Holds the connection's next requests back for {@code nanos} (Kafka's muted channel under a quota). */
    public void throttle(long nanos) {
        throttledUntil.accumulateAndGet(System.nanoTime() + nanos, Math::max);
    }

    /** Nanoseconds the connection's next request must still wait (0: none). */
    public long throttleRemaining() {
        return Math.max(0, throttledUntil.get() - System.nanoTime());
    }

    public javax.security.sasl.SaslServer sasl() {
        return sasl;
    }

    public String mechanism() {
        return mechanism;
    }

    /** SaslHandshake chose {@code mechanism}: its exchange follows in SaslAuthenticate requests. */
    public void startSasl(javax.security.sasl.SaslServer server, String mechanism) {
        this.sasl = server;
        this.mechanism = mechanism;
    }

    public void authenticated(io.strata.security.Identity who) {
        authenticated(who, Long.MAX_VALUE);
    }

    /** Signed in as {@code who} until {@code validUntilMs} (a bearer token's expiry): past it, nothing more is served. */
    public void authenticated(io.strata.security.Identity who, long validUntilMs) {
        this.validUntilMs = validUntilMs;
        this.identity = who;
        disposeSasl();
    }

    /** Whether what the connection signed in with has expired. */
    public boolean expired() {
        return identity != null && System.currentTimeMillis() >= validUntilMs;
    }

    /** A failed exchange: the connection takes nothing more (the client opens another), as Kafka's brokers do. */
    public void failedSasl() {
        saslFailed = true;
        disposeSasl();
    }

    public boolean saslFailed() {
        return saslFailed;
    }

    /** Takes the connection's one SASL step in flight; false when one is under way (a pipelined exchange). */
    public boolean beginSaslStep() {
        return saslStep.compareAndSet(false, true);
    }

    public void endSaslStep() {
        saslStep.set(false);
    }

    private void disposeSasl() {
        javax.security.sasl.SaslServer s = sasl;
        sasl = null;
        if (s != null) {
            try {
                s.dispose();
            } catch (javax.security.sasl.SaslException e) {
                // nothing held
            }
        }
    }

    public InetSocketAddress client() {
        return client;
    }

    /** "host:port" of the client, as the gRPC door writes a caller's address in the audit log. */
    public String clientAddress() {
        return io.strata.security.ClientAddress.of(client);
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
