package io.strata.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class ClientAddressTest {
    @Test
    void anAddressIsWrittenHostColonPortWithAnIpv6HostInBrackets() throws Exception {
        assertThat(ClientAddress.of(new InetSocketAddress(InetAddress.getByName("10.0.3.7"), 43950)))
                .isEqualTo("10.0.3.7:43950");
        assertThat(ClientAddress.of(new InetSocketAddress(InetAddress.getByName("::1"), 9092)))
                .isEqualTo("[0:0:0:0:0:0:0:1]:9092");
        assertThat(ClientAddress.of(InetSocketAddress.createUnresolved("node-1", 9092))).isEqualTo("node-1:9092");
        assertThat(ClientAddress.of(null)).isEqualTo("unknown");
        assertThat(ClientAddress.of("[::1]", 9401)).as("bracketed already").isEqualTo("[::1]:9401");
        assertThat(ClientAddress.of("fe80::1", 9401)).isEqualTo("[fe80::1]:9401");
    }
}
