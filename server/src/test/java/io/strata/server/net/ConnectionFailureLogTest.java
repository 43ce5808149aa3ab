package io.strata.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class ConnectionFailureLogTest {
    private static LogRecord record(String logger, String message, Throwable thrown) {
        LogRecord record = new LogRecord(Level.INFO, message);
        record.setLoggerName(logger);
        record.setThrown(thrown);
        return record;
    }

    @Test
    void aDroppedConnectionIsOneLineWithoutItsStack() {
        LogRecord record = record(ConnectionFailureLog.LOGGER, "Transport failed",
                new IllegalStateException("Unexpected HTTP/1.x request: GET / "));

        assertThat(new ConnectionFailureLog().isLoggable(record)).isTrue();

        assertThat(record.getThrown()).isNull();
        assertThat(record.getMessage()).isEqualTo("Transport failed (the peer did not speak gRPC, or left): "
                + "IllegalStateException: Unexpected HTTP/1.x request: GET / ");
    }

    @Test
    void thePeersBytesCannotForgeALogLineOrFillTheLog() {
        String forged = "GET /\n12:00:00.000 INFO  [st.audit] {\"outcome\":\"ok\"}\r\u0007" + "x".repeat(2_000);
        LogRecord record = record(ConnectionFailureLog.LOGGER, "Transport failed", new RuntimeException(forged));

        new ConnectionFailureLog().isLoggable(record);

        assertThat(record.getMessage()).doesNotContain("\n", "\r", "\u0007")
                .contains("GET /\\n12:00:00.000 INFO", "\\r\\u0007")
                .endsWith("... (" + (forged.length() - ConnectionFailureLog.MAX_DETAIL) + " more characters)");
        assertThat(record.getMessage().length()).isLessThan(400);
    }

    @Test
    void everyOtherRecordIsLeftAsItIs() {
        IllegalStateException failure = new IllegalStateException("boom");
        LogRecord other = record("io.strata.server.StrataNode", "Transport failed", failure);
        LogRecord quiet = record(ConnectionFailureLog.LOGGER, "closed", null);

        assertThat(new ConnectionFailureLog().isLoggable(other)).isTrue();
        assertThat(new ConnectionFailureLog().isLoggable(quiet)).isTrue();

        assertThat(other.getThrown()).isSameAs(failure);
        assertThat(other.getMessage()).isEqualTo("Transport failed");
        assertThat(quiet.getMessage()).isEqualTo("closed");
    }
}
