package io.strata.security;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** How a caller's address is written in the audit log, the same through either door. */
public final class ClientAddress {
    private ClientAddress() {
    }

    /** "host:port", an IPv6 host in brackets (so the port can be told from it); "unknown" without one. */
    public static String of(SocketAddress address) {
        if (!(address instanceof InetSocketAddress a)) {
            return address == null ? "unknown" : String.valueOf(address);
        }
        return of(a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress(), a.getPort());
    }

    /** The same from a host (a name or an address, an IPv6 one bracketed or not) and a port. */
    public static String of(String host, int port) {
        if (host == null) {
            return "unknown";
        }
        return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }
}
