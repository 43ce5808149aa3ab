package io.strata.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

class ConnectionFailureLogTest {
    private static LogRecord record(String logger, Level level, String message, Throwable thrown) {
        LogRecord record = new LogRecord(level, message);
        record.setLoggerName(logger);
        record.setThrown(thrown);
        return record;
    }

    @Test
    void aConnectionDroppedForThePeersBytesIsOneLineWithoutItsStack() {
        // As grpc-java's NettyServerHandler hands it over: Netty's DecoderException around the HTTP/2 error.
        LogRecord record = record(ConnectionFailureLog.CONNECTIONS, Level.INFO, "Transport failed",
                new DecoderException(Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR,
                        "Unexpected HTTP/1.x request: %s ", "GET /")));

        assertThat(new ConnectionFailureLog().isLoggable(record)).isTrue();

        assertThat(record.getThrown()).isNull();
        assertThat(record.getMessage()).isEqualTo("Transport failed (caused by the peer): "
                + "Http2Exception: Unexpected HTTP/1.x request: GET / ");
    }

    @Test
    void aMessageRefusedOnAStreamIsOneLineAtInfo() {
        LogRecord record = record(ConnectionFailureLog.STREAMS, Level.WARNING, "Exception processing message",
                Status.RESOURCE_EXHAUSTED.withDescription("gRPC message exceeds maximum size 9437184: 10485765")
                        .asRuntimeException());

        new ConnectionFailureLog().isLoggable(record);

        assertThat(record.getThrown()).isNull();
        assertThat(record.getLevel()).isEqualTo(Level.INFO);
        assertThat(record.getMessage()).isEqualTo("Exception processing message (caused by the peer): "
                + "StatusRuntimeException: RESOURCE_EXHAUSTED: gRPC message exceeds maximum size 9437184: 10485765");
    }

    @Test
    void thePeersBytesCannotForgeALogLineOrFillTheLog() {
        String forged = "GET /\n12:00:00.000 INFO  [st.audit] {\"outcome\":\"ok\"}\r\u0007\u2028"
                + "x".repeat(2_000);
        LogRecord record = record(ConnectionFailureLog.CONNECTIONS, Level.INFO, "Transport failed",
                new java.io.IOException(forged));

        new ConnectionFailureLog().isLoggable(record);

        assertThat(record.getMessage()).doesNotContain("\n", "\r", "\u0007", "\u2028")
                .contains("GET /\\n12:00:00.000 INFO", "\\r\\u0007\\u2028")
                .endsWith("... (" + (forged.length() - ConnectionFailureLog.MAX_DETAIL) + " more characters)");
        assertThat(record.getMessage().length()).isLessThan(400);
    }

    @Test
    void theNodesOwnFailuresAndOtherLoggersKeepTheirStack() {
        IllegalStateException own = new IllegalStateException("a bug of ours");
        OutOfMemoryError direct = new OutOfMemoryError("Direct buffer memory");
        LogRecord other = record("io.strata.server.StrataNode", Level.INFO, "Transport failed", own);
        LogRecord connection = record(ConnectionFailureLog.CONNECTIONS, Level.INFO, "Transport failed",
                new DecoderException(direct));
        LogRecord stream = record(ConnectionFailureLog.STREAMS, Level.WARNING, "Exception processing message", own);

        for (LogRecord r : new LogRecord[] {other, connection, stream}) {
            assertThat(new ConnectionFailureLog().isLoggable(r)).isTrue();
        }

        assertThat(other.getThrown()).isSameAs(own);
        assertThat(connection.getThrown().getCause()).isSameAs(direct);
        assertThat(stream.getThrown()).isSameAs(own);
        assertThat(stream.getLevel()).isEqualTo(Level.WARNING);
    }

    @Test
    void installedOnGrpcsTwoLoggersOnce() {
        ConnectionFailureLog.install();
        ConnectionFailureLog.install();

        for (String logger : new String[] {ConnectionFailureLog.CONNECTIONS, ConnectionFailureLog.STREAMS}) {
            assertThat(Logger.getLogger(logger).getFilter()).as(logger).isInstanceOf(ConnectionFailureLog.class);
        }
    }
}
