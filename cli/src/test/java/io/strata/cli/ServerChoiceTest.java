package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.client.ServerAddress;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServerChoiceTest {
    @Test
    void ofSeveralAddressesTheFirstThatAcceptsAConnectionIsUsed() throws Exception {
        ServerAddress closed = closedPort();
        try (ServerSocket open = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ServerAddress listening = new ServerAddress("127.0.0.1", open.getLocalPort());

            assertThat(ServerChoice.choose(List.of(closed, listening))).isEqualTo(listening);
        }
    }

    @Test
    void whenNoneAcceptsTheFirstIsUsedSoTheErrorNamesIt() throws Exception {
        ServerAddress first = closedPort();
        ServerAddress second = closedPort();

        assertThat(ServerChoice.choose(List.of(first, second))).isEqualTo(first);
    }

    @Test
    void aSingleAddressIsUsedAsGivenWithoutProbing() {
        ServerAddress unresolvable = new ServerAddress("strata.invalid", 1234);

        assertThat(ServerChoice.choose(List.of(unresolvable))).isEqualTo(unresolvable);
    }

    private static ServerAddress closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return new ServerAddress("127.0.0.1", s.getLocalPort());
        }
    }
}
