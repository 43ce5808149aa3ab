package io.strata.client;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A client's channels to the nodes of its cluster, made on first use and watched while they connect. A frozen
 * node's kernel accepts connections for it and no HTTP/2 ever comes on them, so gRPC's keep-alive never starts and
 * a call waiting for such a connection waits until its deadline (a producer with batches there stopped for as
 * long). So a channel still connecting after {@link #GIVE_UP_CONNECTING_MILLIS} (name resolution, TCP, TLS and
 * HTTP/2 together) is given up while the client knows another node: its node is marked down and the channel
 * closed, so the calls waiting for it fail UNAVAILABLE and go to other nodes; the next call to the node makes a
 * new channel, given twice as long as the last one given up, so a node only slow to connect is reached in the end.
 * A node that drops packets fails its TCP connection sooner ({@link StrataClient#CONNECT_TIMEOUT}).
 *
 * <p>Without a way to dial (in-process or custom transports), every address is the one bootstrap channel. Thread-safe;
 * owned by {@link NodeRouter}.
 */
final class NodeChannels implements AutoCloseable {
    /**
     * The most {@link #connects} waits for a connection: far beyond a connection's making, even with TLS in a JVM
     * just started, and far short of a call's deadline.
     */
    static final long CONNECT_MILLIS = 3_000;
    /** How long a channel tries to make a connection the first time before it is given up; then twice, up to 8×. */
    private static final long GIVE_UP_CONNECTING_MILLIS = 5_000;
    /** Gives up connections that are not made in time, for every client of the JVM (one daemon thread). */
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "strata-connect-watchdog");
        t.setDaemon(true);
        return t;
    });

    private final ManagedChannel bootstrap;
    private final Function<String, ManagedChannel> connect;
    private final long connectMillis;
    /** Told of a node given up (or not connected in time), to pass it over for a while. */
    private final Consumer<String> markDown;
    /** Whether the client knows a node other than the one being given up (else it waits: nowhere else to go). */
    private final BooleanSupplier otherNodesKnown;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    /** Per node, how many connections in a row were given up. */
    private final Map<String, Integer> givenUp = new ConcurrentHashMap<>();

    NodeChannels(ManagedChannel bootstrap, Function<String, ManagedChannel> connect, Duration deadline,
                 Consumer<String> markDown, BooleanSupplier otherNodesKnown) {
        this.bootstrap = bootstrap;
        this.connect = connect;
        this.connectMillis = Math.min(deadline.toMillis(), CONNECT_MILLIS);
        this.markDown = markDown;
        this.otherNodesKnown = otherNodesKnown;
    }

    /** Whether the client dials nodes itself (else every address is the bootstrap channel). */
    boolean dials() {
        return connect != null;
    }

    /** The channel to a node, made on first use (the bootstrap channel when the client cannot dial). */
    ManagedChannel get(String address) {
        if (connect == null) {
            return bootstrap;
        }
        return channels.computeIfAbsent(address, this::dial);
    }

    private ManagedChannel dial(String address) {
        ManagedChannel channel = connect.apply(address);
        if (channel != null) {
            watchConnecting(address, channel, channel.getState(false), new AtomicLong());
        }
        return channel;
    }

    private void watchConnecting(String address, ManagedChannel channel, ConnectivityState from, AtomicLong attempts) {
        channel.notifyWhenStateChanged(from, () -> {
            ConnectivityState now = channel.getState(false);
            if (now == ConnectivityState.SHUTDOWN) {
                return;
            }
            if (now == ConnectivityState.CONNECTING) {
                long attempt = attempts.incrementAndGet();
                long giveUpMillis = GIVE_UP_CONNECTING_MILLIS << Math.min(3, givenUp.getOrDefault(address, 0));
                WATCHDOG.schedule(() -> {
                    if (attempts.get() == attempt && channel.getState(false) == ConnectivityState.CONNECTING
                            && otherNodesKnown.getAsBoolean()) {
                        givenUp.merge(address, 1, Integer::sum);
                        markDown.accept(address);
                        channels.remove(address, channel);
                        channel.shutdownNow();
                    }
                }, giveUpMillis, TimeUnit.MILLISECONDS);
            } else {
                attempts.incrementAndGet(); // the attempt ended, one way or the other
                if (now == ConnectivityState.READY) {
                    givenUp.remove(address);
                }
            }
            watchConnecting(address, channel, now, attempts);
        });
    }

    /**
     * Whether the node's channel is connected, or failed to connect (a call then fails at once, as unreachable),
     * within {@link #CONNECT_MILLIS} (the client's deadline, if shorter). When it is still connecting then, the node
     * is marked down, as one that could not be reached. A channel made on first use connects here.
     */
    boolean connects(String node) {
        ManagedChannel channel = get(node);
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(connectMillis);
        ConnectivityState state = channel.getState(true);
        while (state == ConnectivityState.IDLE || state == ConnectivityState.CONNECTING) {
            CountDownLatch changed = new CountDownLatch(1);
            channel.notifyWhenStateChanged(state, changed::countDown);
            try {
                if (!changed.await(until - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                    markDown.accept(node);
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return true; // the call itself sees the interruption
            }
            state = channel.getState(true);
        }
        return state != ConnectivityState.SHUTDOWN; // given up meanwhile
    }

    /** Whether the node's channel is connected now. */
    boolean ready(String node) {
        return get(node).getState(false) == ConnectivityState.READY;
    }

    /** The failure of a call that never reached a node, as the node made no connection in time. */
    StrataException noConnection() {
        return StrataException.from(Status.UNAVAILABLE.withDescription("no connection").withCause(
                new java.net.ConnectException("no connection within " + connectMillis + " ms")).asRuntimeException());
    }

    /**
     * Closes the channels to nodes not in {@code live}: gracefully when connected (calls out finish), at once
     * otherwise (calls waiting for a connection would wait out their deadlines).
     */
    void closeAllBut(Set<String> live) {
        for (String address : List.copyOf(channels.keySet())) {
            if (live.contains(address)) {
                continue;
            }
            ManagedChannel c = channels.remove(address);
            if (c != null && c.getState(false) == ConnectivityState.READY) {
                c.shutdown();
            } else if (c != null) {
                c.shutdownNow();
            }
        }
    }

    @Override
    public void close() {
        // Producers were flushed and closed first (StrataClient.close); a long poll still out is not waited for.
        channels.values().forEach(ManagedChannel::shutdownNow);
        channels.clear();
    }
}
