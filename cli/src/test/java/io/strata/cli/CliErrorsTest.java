package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a TLS mismatch between the command line and a node is called on stderr. */
class CliErrorsTest {
    private static String line(String description) {
        return CliErrors.oneLine(Status.UNAVAILABLE.withDescription(description).asRuntimeException(),
                List.of(io.strata.client.ServerAddress.parse("127.0.0.1:9400")));
    }

    @Test
    void aTlsMismatchIsSaidInWordsNotInTransportInternals() {
        assertThat(line("Network closed for unknown reason")).contains("does the node speak TLS? give --tls-ca");
        assertThat(line("io.grpc.netty.shaded.io.netty.handler.ssl.NotSslRecordException: not an SSL/TLS record: "
                + "0000120400000000")).contains("the node does not speak TLS").doesNotContain("0000120400");
        assertThat(line("PKIX path building failed: unable to find valid certification path to requested target"))
                .contains("not signed by the CA given");
        assertThat(line("the bucket is gone")).contains("the bucket is gone");
    }
}
