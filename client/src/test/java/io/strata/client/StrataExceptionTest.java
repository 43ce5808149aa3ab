package io.strata.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class StrataExceptionTest {

    @Test
    void aServerStatusKeepsItsCodeAndDescription() {
        StrataException e = StrataException.from(Status.NOT_FOUND.withDescription("unknown topic 'x'").asRuntimeException());
        assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(e.description()).isEqualTo("unknown topic 'x'");
        assertThat(e.unreachable()).isFalse();
    }

    @Test
    void aStatusWithoutDescriptionIsDescribedByItsCode() {
        assertThat(StrataException.from(Status.INTERNAL.asRuntimeException()).description()).isEqualTo("INTERNAL");
    }

    @Test
    void futureWrappersAreSeenThrough() {
        StrataException e = StrataException.from(new CompletionException(
                Status.RESOURCE_EXHAUSTED.withDescription("buffer full").asRuntimeException()));
        assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(e.description()).isEqualTo("buffer full");
    }

    @Test
    void aConnectionThatClosedUnderTheCallIsAnUnreachableNode() {
        StrataException e = StrataException.from(Status.UNKNOWN.withDescription("channel closed")
                .withCause(new java.nio.channels.ClosedChannelException()).asRuntimeException());
        assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.unreachable()).isTrue();
        assertThat(e.neverSent()).as("the call may have been carried out before the connection closed").isFalse();
        assertThat(StrataException.from(Status.UNKNOWN.withDescription("odd").asRuntimeException()).code())
                .as("an UNKNOWN the node sent stays UNKNOWN").isEqualTo(Status.Code.UNKNOWN);
    }

    @Test
    void aStreamTheNodeResetWithInternalErrorIsAnUnreachableNodeAndOtherResetsStayInternal() {
        // As gRPC's Netty transport describes a reset (NodeFailoverTest meets the first from a real server).
        StrataException reset = StrataException.from(Status.INTERNAL.withDescription(
                "RST_STREAM closed stream. HTTP/2 error code: INTERNAL_ERROR").asRuntimeException());
        assertThat(reset.code()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(reset.unreachable()).isTrue();
        assertThat(reset.neverSent()).as("the node may have acted on the call before the reset").isFalse();
        assertThat(reset.description()).contains("RST_STREAM INTERNAL_ERROR");
        StrataException protocol = StrataException.from(Status.INTERNAL.withDescription(
                "RST_STREAM closed stream. HTTP/2 error code: PROTOCOL_ERROR").asRuntimeException());
        assertThat(protocol.code()).isEqualTo(Status.Code.INTERNAL);
        assertThat(protocol.unreachable()).isFalse();
    }

    @Test
    void aServerSentUnavailableIsNotMistakenForAnUnreachableServer() {
        StrataException e = StrataException.from(Status.UNAVAILABLE.withDescription("metadata store down")
                .asRuntimeException());
        assertThat(e.unreachable()).isFalse();
        assertThat(e.neverSent()).as("the node answered: it may have acted before it failed").isFalse();
    }

    @Test
    void aRefusedConnectionIsReportedAsUnreachableWithTheReason() throws IOException {
        try (StrataClient client = StrataClient.builder().server("127.0.0.1:" + closedPort())
                .deadline(Duration.ofSeconds(5)).build()) {
            assertThatThrownBy(() -> client.admin().listTopics())
                    .isInstanceOfSatisfying(StrataException.class, e -> {
                        assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(e.unreachable()).isTrue();
                        assertThat(e.description()).startsWith("Connection refused");
                        assertThat(e.neverSent()).as("no connection: the call surely never reached a node").isTrue();
                    });
        }
    }

    /** A port nothing listens on: bound, then released. */
    static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
