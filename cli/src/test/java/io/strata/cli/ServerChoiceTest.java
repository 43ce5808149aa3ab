package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.client.ServerAddress;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServerChoiceTest {
    @Test
    void ofSeveralAddressesTheFirstThatAcceptsAConnectionGoesFirstAndTheOthersFollowForFailover() throws Exception {
        ServerAddress closed = closedPort();
        ServerAddress other = closedPort();
        try (ServerSocket open = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ServerAddress listening = new ServerAddress("127.0.0.1", open.getLocalPort());

            assertThat(ServerChoice.choose(List.of(closed, listening, other))).containsExactly(listening, closed, other);
        }
    }

    @Test
    void whenNoneAcceptsTheyStayInTheirOrder() throws Exception {
        ServerAddress first = closedPort();
        ServerAddress second = closedPort();

        assertThat(ServerChoice.choose(List.of(first, second))).containsExactly(first, second);
    }

    @Test
    void aSingleAddressIsUsedAsGivenWithoutProbing() {
        ServerAddress unresolvable = new ServerAddress("strata.invalid", 1234);

        assertThat(ServerChoice.choose(List.of(unresolvable))).containsExactly(unresolvable);
    }

    private static ServerAddress closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return new ServerAddress("127.0.0.1", s.getLocalPort());
        }
    }
}
