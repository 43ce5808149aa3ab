package io.strata.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Listening ports are picked outside the kernel's ephemeral range, so that the outgoing connections of processes
 * started first (a node's to etcd and S3) cannot take a port chosen for a process started later.
 */
class PortsTest {
    @Test
    void portsArePickedBelowTheEphemeralRangeOfLinuxAndOfOtherSystems() {
        assertThat(Ports.pickRange(new int[] {32_768, 60_999})).containsExactly(Ports.FIRST, Ports.LAST);
        assertThat(Ports.pickRange(new int[] {49_152, 65_535})).containsExactly(Ports.FIRST, Ports.LAST);
    }

    @Test
    void anEphemeralRangeOverlappingTheUsualSpanMovesThePickAside() {
        assertThat(Ports.pickRange(new int[] {15_000, 40_000})).containsExactly(10_000, 14_999);
        assertThat(Ports.pickRange(new int[] {5_000, 30_000})).containsExactly(30_001, 65_535);
        assertThat(Ports.pickRange(new int[] {1_024, 65_000})).isNull(); // the kernel's port 0, as before
    }

    @Test
    void freePortsAreDistinctBindableAndOutsideThisMachinesEphemeralRange() throws Exception {
        int[] ephemeral = Ports.ephemeralRange();
        Set<Integer> picked = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            int port = Ports.freePort();
            assertThat(picked.add(port)).as("port %d handed out twice", port).isTrue();
            if (Ports.pickRange(ephemeral) != null) { // else a machine with no room beside it: the kernel's pick
                assertThat(port < ephemeral[0] || port > ephemeral[1]).as("port %d in %d-%d", port, ephemeral[0],
                        ephemeral[1]).isTrue();
            }
        }
        int port = picked.iterator().next();
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", port));
            assertThat(socket.getLocalPort()).isEqualTo(port);
        }
    }
}
