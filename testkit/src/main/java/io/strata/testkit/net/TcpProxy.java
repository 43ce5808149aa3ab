package io.strata.testkit.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on a free loopback port in front of one target, for faults a network makes: on its first
 * connections it passes the handshake, then, once the client has sent more than {@code requestBytes}
 * (a request), swallows whatever the target answers and cuts the connection a while later. So a request
 * reaches the server and is carried out, but its answer is lost (a dropped acknowledgement). Later
 * connections pass through. Threads: one acceptor and two pumps per connection, all daemons, stopped by {@link #close()}.
 */
public final class TcpProxy implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final AtomicInteger connectionsToBlackhole;
    private final long cutAfterMillis;
    private final long requestBytes;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile boolean closed;

    /**
     * Answers of the first {@code blackholedConnections} connections are swallowed, and those connections are
     * cut {@code cutAfterMillis} after they open.
     */
    public TcpProxy(InetSocketAddress target, int blackholedConnections, long requestBytes, long cutAfterMillis) {
        try {
            this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on loopback", e);
        }
        this.target = target;
        this.connectionsToBlackhole = new AtomicInteger(blackholedConnections);
        this.cutAfterMillis = cutAfterMillis;
        this.requestBytes = requestBytes;
        Thread acceptor = new Thread(this::accept, "tcp-proxy-accept-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                connections.incrementAndGet();
                Socket upstream = new Socket(target.getAddress(), target.getPort());
                sockets.add(client);
                sockets.add(upstream);
                boolean blackhole = connectionsToBlackhole.getAndDecrement() > 0;
                java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
                pump(client.getInputStream(), upstream.getOutputStream(), "up", sent, () -> false);
                pump(upstream.getInputStream(), client.getOutputStream(), "down", null,
                        () -> blackhole && sent.get() > requestBytes);
                if (blackhole) {
                    Thread cutter = new Thread(() -> {
                        while (sent.get() <= requestBytes && !client.isClosed()) {
                            sleep(5);
                        }
                        sleep(cutAfterMillis);
                        closeQuietly(client);
                        closeQuietly(upstream);
                    }, "tcp-proxy-cut");
                    cutter.setDaemon(true);
                    cutter.start();
                }
            } catch (IOException e) {
                if (!closed) {
                    sleep(10);
                }
            }
        }
    }

    private static void pump(InputStream in, OutputStream out, String name,
                             java.util.concurrent.atomic.AtomicLong count, java.util.function.BooleanSupplier swallow) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            try {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    if (count != null) {
                        count.addAndGet(n);
                    }
                    if (!swallow.getAsBoolean()) {
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                }
            } catch (IOException ignored) {
                // the other side closed
            } finally {
                closeQuietly(out);
            }
        }, "tcp-proxy-" + name);
        t.setDaemon(true);
        t.start();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        sockets.forEach(TcpProxy::closeQuietly);
    }
}
