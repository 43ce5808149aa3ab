package io.strata.server.grpc;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;
import io.strata.security.OpenCounts;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Counts the client port's connections per client address. gRPC cannot refuse a connection here, so one past the
 * bound is marked, and every call on it is refused with RESOURCE_EXHAUSTED ({@code CallGuard}): the client is told
 * why at its first call, and the connection holds nothing of the node's but its socket.
 */
public final class ClientConnections extends ServerTransportFilter {
    private static final Attributes.Key<String> COUNTED = Attributes.Key.create("strata-counted-address");
    private static final Attributes.Key<String> REFUSED = Attributes.Key.create("strata-refused-address");
    private final OpenCounts perAddress;

    public ClientConnections(int maxPerAddress) {
        this.perAddress = new OpenCounts(maxPerAddress);
    }

    @Override
    public Attributes transportReady(Attributes attributes) {
        String address = host(attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        return attributes.toBuilder().set(perAddress.tryOpen(address) ? COUNTED : REFUSED, address).build();
    }

    @Override
    public void transportTerminated(Attributes attributes) {
        String counted = attributes.get(COUNTED);
        if (counted != null) {
            perAddress.close(counted);
        }
    }

    /** Why calls on this connection are refused, or null when they are not. */
    public static String refusal(Attributes callAttributes) {
        String address = callAttributes.get(REFUSED);
        return address == null ? null : address + " has too many connections open to this node "
                + "(strata.grpc.max-connections-per-address): close some, or share one channel";
    }

    private static String host(SocketAddress address) {
        return address instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : String.valueOf(address);
    }
}
