package io.strata.launcher.net;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/1.1 proxy in front of an S3-compatible server that makes a local server behave like S3 across a
 * network: each answer is held back until a latency drawn from a model of S3 has passed since its request
 * arrived ({@link #latency}, {@code strata cluster up --s3-latency}); and, for tests, that injects the faults
 * S3 is known for, per request: some answered {@code 503 Slow Down} (or {@code 500}) without reaching the
 * server, some held back before they are forwarded (slow responses), some answered {@code 500} after the
 * server did what they asked (a PUT stored, its answer lost), and GET bodies damaged in transit: one bit
 * flipped, or cut short with the connection closed. It understands just enough HTTP to find each request's
 * and response's end (Content-Length, chunked bodies, {@code Expect: 100-continue}, bodiless answers), so
 * a kept-alive connection carries many requests and each is decided on its own. Faults and latency can be
 * changed while it runs. Threads: an acceptor and one per connection, all daemons, stopped by
 * {@link #close()}. {@link #main} runs it as a process of its own.
 */
public final class FaultyHttpProxy implements AutoCloseable {
    /**
     * Per request: the chance of an error before it reaches the server, of a delay (and the delay), of an
     * error after the server answered (its answer dropped), and, for a GET's body, of one bit flipped or of
     * being cut short.
     */
    public record Faults(double errorRate, double delayRate, long delayMillis, double errorAfterRate,
                         double bitFlipRate, double truncateRate) {
        public static final Faults NONE = new Faults(0, 0, 0);

        public Faults(double errorRate, double delayRate, long delayMillis) {
            this(errorRate, delayRate, delayMillis, 0, 0, 0);
        }
    }

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Random random;
    private final java.util.Set<Socket> sockets = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong delays = new AtomicLong();
    private final AtomicLong errorsAfter = new AtomicLong();
    private final AtomicLong bitFlips = new AtomicLong();
    private final AtomicLong truncations = new AtomicLong();
    private volatile Faults faults = Faults.NONE;
    private volatile LatencyModel latency;
    private volatile boolean closed;

    public FaultyHttpProxy(InetSocketAddress target, long seed) {
        this(0, target, seed);
    }

    /** Listens on {@code port} of loopback (0: any free port). */
    public FaultyHttpProxy(int port, InetSocketAddress target, long seed) {
        try {
            this.server = new ServerSocket(port, 100, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on loopback port " + port, e);
        }
        this.target = target;
        this.random = new Random(seed);
        Thread acceptor = new Thread(this::accept, "http-proxy-accept-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public void faults(Faults faults) {
        this.faults = faults;
    }

    /** Holds each answer until a latency drawn from {@code model} has passed since its request came; null: none. */
    public void latency(LatencyModel model) {
        this.latency = model;
    }

    /**
     * Runs the proxy as a process: {@code --port P --target HOST:PORT [--latency MODEL] [--seed N]}, MODEL as
     * {@link LatencyModel#parse} reads it. It runs until killed.
     */
    public static void main(String[] args) throws InterruptedException {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String target = options.get("target");
        if (target == null || !options.containsKey("port")) {
            System.err.println("usage: FaultyHttpProxy --port P --target HOST:PORT [--latency MODEL] [--seed N]");
            System.exit(2);
        }
        int colon = target.lastIndexOf(':');
        FaultyHttpProxy proxy = new FaultyHttpProxy(Integer.parseInt(options.get("port")),
                new InetSocketAddress(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1))),
                Long.parseLong(options.getOrDefault("seed", Long.toString(System.nanoTime()))));
        if (options.containsKey("latency")) {
            proxy.latency(LatencyModel.parse(options.get("latency")));
        }
        System.out.println("proxying " + proxy.endpoint() + " to " + target
                + (proxy.latency == null ? "" : " with latencies " + proxy.latency));
        System.out.flush();
        Thread.currentThread().join(); // until killed
    }

    public java.net.URI endpoint() {
        return java.net.URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    public long requests() {
        return requests.get();
    }

    public long injectedErrors() {
        return errors.get();
    }

    public long injectedDelays() {
        return delays.get();
    }

    /** Requests the server carried out whose answer was replaced by an error. */
    public long injectedErrorsAfter() {
        return errorsAfter.get();
    }

    public long injectedBitFlips() {
        return bitFlips.get();
    }

    public long injectedTruncations() {
        return truncations.get();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                Thread t = new Thread(() -> serve(client), "http-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private void serve(Socket client) {
        Socket upstream = null;
        try (client) {
            client.setTcpNoDelay(true);
            // Buffered: heads are parsed a byte at a time, which unbuffered would be a system call a byte.
            InputStream in = new BufferedInputStream(client.getInputStream(), 64 * 1024);
            OutputStream out = client.getOutputStream();
            InputStream upIn = null;
            while (true) {
                Head request = Head.read(in);
                if (request == null) {
                    return;
                }
                long arrived = System.nanoTime();
                requests.incrementAndGet();
                Faults f = faults;
                double roll;
                double delayRoll;
                double afterRoll;
                double bodyRoll;
                int flipAt;
                double latencyDraw;
                synchronized (random) {
                    roll = random.nextDouble();
                    delayRoll = random.nextDouble();
                    afterRoll = random.nextDouble();
                    bodyRoll = random.nextDouble();
                    flipAt = random.nextInt(Integer.MAX_VALUE);
                    latencyDraw = random.nextGaussian();
                }
                LatencyModel model = latency;
                long answerAt = model == null ? arrived
                        : arrived + TimeUnit.MICROSECONDS.toNanos(Math.round(1000 * model.latencyMillis(
                                request.method(), latencyDraw)));
                if (roll < f.errorRate()) {
                    errors.incrementAndGet();
                    writeError(out, roll < f.errorRate() / 2);
                    return; // the body may be on its way; closing is the clean way to drop it
                }
                if (delayRoll < f.delayRate()) {
                    delays.incrementAndGet();
                    Thread.sleep(f.delayMillis());
                }
                if (upstream == null) {
                    upstream = new Socket(target.getAddress(), target.getPort());
                    upstream.setTcpNoDelay(true);
                    sockets.add(upstream);
                    upIn = new BufferedInputStream(upstream.getInputStream(), 64 * 1024);
                }
                OutputStream upOut = upstream.getOutputStream();
                upOut.write(request.raw);
                upOut.flush();
                if (request.expectsContinue()) {
                    Head interim = Head.read(upIn);
                    if (interim == null) {
                        return;
                    }
                    if (interim.status() != 100) {
                        holdUntil(answerAt); // a final answer (412 for a key that exists, say): as late as any
                    }
                    out.write(interim.raw);
                    out.flush();
                    if (interim.status() != 100) {
                        copyBody(upIn, out, interim, request.method());
                        continue;
                    }
                }
                copyBody(in, upOut, request, request.method());
                upOut.flush();
                Head response = Head.read(upIn);
                while (response != null && response.status() == 100) {
                    out.write(response.raw);
                    response = Head.read(upIn);
                }
                if (response == null) {
                    return;
                }
                holdUntil(answerAt);
                if (afterRoll < f.errorAfterRate()) {
                    copyBody(upIn, OutputStream.nullOutputStream(), response, request.method());
                    errorsAfter.incrementAndGet();
                    writeError(out, false);
                    return;
                }
                String length = response.header("content-length");
                boolean damageable = "GET".equals(request.method()) && length != null
                        && (response.status() == 200 || response.status() == 206) && Long.parseLong(length) > 0;
                if (damageable && bodyRoll < f.bitFlipRate() + f.truncateRate()) {
                    byte[] body = upIn.readNBytes(Integer.parseInt(length));
                    out.write(response.raw);
                    if (bodyRoll < f.bitFlipRate()) {
                        bitFlips.incrementAndGet();
                        int at = flipAt % body.length;
                        body[at] ^= (byte) (1 << (flipAt % 8));
                        out.write(body);
                        out.flush();
                        continue;
                    }
                    truncations.incrementAndGet();
                    out.write(body, 0, body.length / 2);
                    out.flush();
                    return; // cut short: the connection closes mid-body
                }
                out.write(response.raw);
                copyBody(upIn, out, response, request.method());
                out.flush();
                if ("close".equalsIgnoreCase(response.header("connection"))) {
                    return;
                }
            }
        } catch (IOException e) {
            // a side closed: the connection ends
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            sockets.remove(client); // the proxy may run for days (strata cluster up --s3-latency)
            if (upstream != null) {
                sockets.remove(upstream);
                try {
                    upstream.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
    }

    /** Waits until {@code answerAt} ({@link System#nanoTime()}): S3 would not have answered sooner. */
    private static void holdUntil(long answerAt) throws InterruptedException {
        long early = answerAt - System.nanoTime();
        if (early > 0) {
            TimeUnit.NANOSECONDS.sleep(early);
        }
    }

    private static void writeError(OutputStream out, boolean slowDown) throws IOException {
        String body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                + (slowDown ? "SlowDown" : "InternalError") + "</Code><Message>injected by the test proxy"
                + "</Message></Error>";
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        out.write(((slowDown ? "HTTP/1.1 503 Slow Down" : "HTTP/1.1 500 Internal Server Error")
                + "\r\nContent-Type: application/xml\r\nContent-Length: " + b.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        out.flush();
    }

    /** Copies the body that follows {@code head} (a request, or a response to {@code method}). */
    private static void copyBody(InputStream in, OutputStream out, Head head, String method) throws IOException {
        if (head.isResponse()) {
            int s = head.status();
            if ("HEAD".equals(method) || s < 200 || s == 204 || s == 304) {
                return;
            }
        }
        String te = head.header("transfer-encoding");
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            while (true) {
                String line = readLine(in);
                out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
                int semi = line.indexOf(';');
                long size = Long.parseLong((semi < 0 ? line : line.substring(0, semi)).trim(), 16);
                if (size == 0) {
                    for (String trailer = readLine(in); ; trailer = readLine(in)) {
                        out.write((trailer + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        if (trailer.isEmpty()) {
                            return;
                        }
                    }
                }
                copy(in, out, size + 2); // the chunk and its CRLF
            }
        }
        String length = head.header("content-length");
        if (length != null) {
            copy(in, out, Long.parseLong(length.trim()));
        } else if (head.isResponse()) {
            in.transferTo(out); // no length: the body ends with the connection
        }
    }

    private static void copy(InputStream in, OutputStream out, long n) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        while (n > 0) {
            int read = in.read(buffer, 0, (int) Math.min(buffer.length, n));
            if (read < 0) {
                throw new IOException("body cut short");
            }
            out.write(buffer, 0, read);
            n -= read;
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int prev = -1;
        for (int b = in.read(); ; b = in.read()) {
            if (b < 0) {
                throw new IOException("stream ended in a line");
            }
            if (prev == '\r' && b == '\n') {
                byte[] bytes = line.toByteArray();
                return new String(bytes, 0, bytes.length - 1, StandardCharsets.US_ASCII);
            }
            line.write(b);
            prev = b;
        }
    }

    /** A request or response head: its raw bytes (to forward as they are) and its parsed start line and headers. */
    private record Head(byte[] raw, String startLine, Map<String, String> headers) {
        static Head read(InputStream in) throws IOException {
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int b = in.read();
                if (b < 0) {
                    if (raw.size() == 0) {
                        return null;
                    }
                    throw new IOException("stream ended in a head");
                }
                raw.write(b);
                matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            String text = raw.toString(StandardCharsets.ISO_8859_1);
            String[] lines = text.split("\r\n");
            Map<String, String> headers = new HashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
                }
            }
            return new Head(raw.toByteArray(), lines[0], headers);
        }

        String header(String name) {
            return headers.get(name);
        }

        boolean isResponse() {
            return startLine.startsWith("HTTP/");
        }

        int status() {
            return Integer.parseInt(startLine.split(" ")[1]);
        }

        String method() {
            return startLine.split(" ")[0];
        }

        boolean expectsContinue() {
            return "100-continue".equalsIgnoreCase(header("expect"));
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
