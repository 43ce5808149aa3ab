package io.strata.server.grpc;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;
import io.strata.security.OpenCounts;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Counts the client port's connections per client address. gRPC cannot refuse a connection here, so one past the
 * bound is left uncounted, and its calls are refused with RESOURCE_EXHAUSTED ({@code CallGuard}) until there is
 * room for it again (then it is counted and served): the client is told why at once, the connection holds nothing
 * of the node's but its socket, and it is not locked out for good.
 */
public final class ClientConnections extends ServerTransportFilter {
    private static final Attributes.Key<Slot> SLOT = Attributes.Key.create("strata-connection-slot");
    private final OpenCounts perAddress;

    public ClientConnections(int maxPerAddress) {
        this.perAddress = new OpenCounts(maxPerAddress);
    }

    /** One connection's place in its address's count. */
    private final class Slot {
        private final String address;
        private boolean counted;
        /** The connection has ended: a call that starts after that must not count it again. */
        private boolean closed;

        Slot(String address) {
            this.address = address;
        }

        synchronized boolean admitted() {
            if (!counted && !closed) {
                counted = perAddress.tryOpen(address);
            }
            return counted || closed; // a call on a closed connection ends with it anyway
        }

        synchronized void release() {
            closed = true;
            if (counted) {
                counted = false;
                perAddress.close(address);
            }
        }
    }

    @Override
    public Attributes transportReady(Attributes attributes) {
        Slot slot = new Slot(host(attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)));
        slot.admitted();
        return attributes.toBuilder().set(SLOT, slot).build();
    }

    @Override
    public void transportTerminated(Attributes attributes) {
        // Null when the connection closed before its HTTP/2 handshake: never counted.
        Slot slot = attributes == null ? null : attributes.get(SLOT);
        if (slot != null) {
            slot.release();
        }
    }

    /** Why calls on this connection are refused, or null when they are not. */
    public static String refusal(Attributes callAttributes) {
        Slot slot = callAttributes.get(SLOT);
        return slot == null || slot.admitted() ? null : slot.address + " has too many connections open to this node "
                + "(strata.grpc.max-connections-per-address): close some, or share one channel";
    }

    private static String host(SocketAddress address) {
        return address instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : String.valueOf(address);
    }
}
