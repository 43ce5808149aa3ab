package io.strata.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class AdvertisedHostTest {
    @Test
    void aNodeBoundToOneAddressAdvertisesIt() {
        assertThat(AdvertisedHost.of("127.0.0.1", Map.of(AdvertisedHost.POD_IP, "10.1.2.3"))).isEqualTo("127.0.0.1");
    }

    @Test
    void aNodeBoundToAllInterfacesAdvertisesItsPodIp() {
        assertThat(AdvertisedHost.of("0.0.0.0", Map.of(AdvertisedHost.POD_IP, "10.1.2.3"))).isEqualTo("10.1.2.3");
        assertThat(AdvertisedHost.of("::", Map.of(AdvertisedHost.POD_IP, "fd00::17"))).isEqualTo("[fd00::17]");
    }

    @Test
    void withoutAPodIpItAdvertisesAnAddressOfThisHostNeverTheWildcard() {
        String host = AdvertisedHost.of("0.0.0.0", Map.of());

        assertThat(host).isNotEqualTo("0.0.0.0").isNotBlank();
    }

    @Test
    void theHostOfAnAddressKeepsIpv6Brackets() {
        assertThat(AdvertisedHost.hostOf("[fd00::17]:9400")).isEqualTo("[fd00::17]");
        assertThat(AdvertisedHost.hostOf("strata-fetch-0.strata-fetch:9400")).isEqualTo("strata-fetch-0.strata-fetch");
    }
}
