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
        String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
