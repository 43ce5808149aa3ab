package io.strata.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ServerAddressTest {

    @Test
    void parsesHostAndPort() {
        assertThat(ServerAddress.parse("strata.local:9400")).isEqualTo(new ServerAddress("strata.local", 9400));
    }

    @Test
    void parsesBracketedIpv6AndPrintsItBack() {
        ServerAddress address = ServerAddress.parse("[::1]:9400");
        assertThat(address.host()).isEqualTo("::1");
        assertThat(address).hasToString("[::1]:9400");
    }

    @Test
    void refusesAddressesWithoutAUsablePort() {
        assertThatThrownBy(() -> ServerAddress.parse("localhost")).hasMessageContaining("HOST:PORT");
        assertThatThrownBy(() -> ServerAddress.parse("localhost:")).hasMessageContaining("HOST:PORT");
        assertThatThrownBy(() -> ServerAddress.parse("localhost:http")).hasMessageContaining("numeric port");
        assertThatThrownBy(() -> ServerAddress.parse("localhost:70000")).hasMessageContaining("1..65535");
    }
}
