package io.strata.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/** Loopback ports: every process the launcher and the test fixtures start listens on 127.0.0.1 only. */
public final class Ports {
    /**
     * Where listening ports are picked: below the kernel's ephemeral range (Linux: 32768–60999, macOS and
     * Windows: 49152–65535). A port the kernel hands out for port 0 is from that range, and so is the local port
     * of every outgoing connection: between the moment a cluster's ports are chosen and the moment its last node
     * binds one, a node started earlier (connecting to etcd, to S3) could take it, and the later node would fail
     * with "Address already in use".
     */
    static final int FIRST = 20_000;
    static final int LAST = 32_767;
    /** Ports this JVM has handed out: two picks before either process binds must not be the same port. */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private Ports() {
    }

    /**
     * A port that was free a moment ago, outside the ephemeral range where it can be known, and not handed out
     * before by this JVM.
     */
    public static int freePort() {
        int[] range = pickRange(ephemeralRange());
        if (HANDED_OUT.size() > 4_096) {
            HANDED_OUT.clear(); // a long test run: picks this old have long been bound, or dropped
        }
        for (int attempt = 0; range != null && attempt < 500; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(range[0], range[1] + 1);
            if (!HANDED_OUT.contains(port) && bindable(port) && HANDED_OUT.add(port)) {
                return port;
            }
        }
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            HANDED_OUT.add(socket.getLocalPort()); // a crowded machine: what the kernel offers, as before
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    /**
     * The ports to pick from: {@link #FIRST}–{@link #LAST}, or, if {@code ephemeral} overlaps them, a span of at
     * least 1,000 ports from 10,000 below it or above it; null when there is none (the kernel's port 0 then).
     */
    static int[] pickRange(int[] ephemeral) {
        if (ephemeral[0] > LAST || ephemeral[1] < FIRST) {
            return new int[] {FIRST, LAST};
        }
        if (ephemeral[0] - 10_000 >= 1_000) {
            return new int[] {10_000, ephemeral[0] - 1};
        }
        if (65_535 - ephemeral[1] >= 1_000) {
            return new int[] {ephemeral[1] + 1, 65_535};
        }
        return null;
    }

    /** The kernel's ephemeral port range as Linux states it, else the IANA range (macOS, Windows). */
    static int[] ephemeralRange() {
        try {
            String[] bounds = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return new int[] {Integer.parseInt(bounds[0]), Integer.parseInt(bounds[1])};
        } catch (IOException | RuntimeException notLinux) {
            return new int[] {49_152, 65_535};
        }
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    /** Waits until something accepts TCP connections on 127.0.0.1:port, or the timeout passes. */
    public static boolean awaitListening(int port, Duration timeout) {
        return Polls.until(timeout, 50, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException notYet) {
                return false;
            }
        });
    }
}
