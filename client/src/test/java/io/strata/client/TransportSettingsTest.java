package io.strata.client;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.inprocess.InProcessChannelBuilder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** What a client's TLS settings may be combined with. */
class TransportSettingsTest {
    @Test
    void aChannelBuilderBringsItsOwnTransportSoTlsSettingsBesideItAreRefused() {
        assertThatThrownBy(() -> StrataClient.builder().server("127.0.0.1:9400")
                .channelBuilder(InProcessChannelBuilder.forName("x")).tlsCa(Path.of("ca.crt")).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("channel builder");
        assertThatThrownBy(() -> StrataClient.builder().server("127.0.0.1:9400")
                .channelBuilder(InProcessChannelBuilder.forName("x")).tlsServerName("strata").build())
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aCaFileThatCannotBeReadIsSaidAtOnce() {
        assertThatThrownBy(() -> StrataClient.builder().server("127.0.0.1:9400")
                .tlsCa(Path.of("/no/such/ca.crt")).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/no/such/ca.crt");
    }
}
