package io.strata.server.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;

/**
 * The host a node tells clients and other nodes to dial when no address is configured. A node bound to one
 * address advertises it; a node bound to all interfaces (as in a container) cannot advertise 0.0.0.0, so it
 * advertises its pod's IP ({@code POD_IP}, from Kubernetes' downward API), else this host's own address.
 */
public final class AdvertisedHost {
    /** The variable a pod spec fills from {@code status.podIP}. */
    public static final String POD_IP = "POD_IP";

    private AdvertisedHost() {
    }

    /** The host part of {@code listenHost:port}-style addresses to advertise; IPv6 literals in brackets. */
    public static String of(String listenHost, Map<String, String> environment) {
        if (!isWildcard(listenHost)) {
            return bracketed(listenHost);
        }
        String podIp = environment.get(POD_IP);
        if (podIp != null && !podIp.isBlank()) {
            return bracketed(podIp.strip());
        }
        return bracketed(ownAddress().orElse("127.0.0.1"));
    }

    /** host:port, from an advertised host and a port. */
    public static String address(String host, int port) {
        return host + ":" + port;
    }

    /** The host part of a configured host:port (brackets kept). */
    public static String hostOf(String address) {
        int colon = address.lastIndexOf(':');
        return colon < 0 ? address : address.substring(0, colon);
    }

    static boolean isWildcard(String host) {
        return host == null || host.isBlank() || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    private static String bracketed(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** This host's name's address when it is not loopback, else the first IPv4 address of an interface that is up. */
    private static Optional<String> ownAddress() {
        try {
            InetAddress local = InetAddress.getLocalHost();
            if (!local.isLoopbackAddress()) {
                return Optional.of(local.getHostAddress());
            }
        } catch (UnknownHostException e) {
            // fall through to the interfaces
        }
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp() || nic.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                    if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
                        return Optional.of(a.getHostAddress());
                    }
                }
            }
        } catch (SocketException e) {
            // no interfaces to read
        }
        return Optional.empty();
    }
}
