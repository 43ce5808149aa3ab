package io.strata.server.net;

import io.quarkus.logging.LoggingFilter;
import java.util.logging.Filter;
import java.util.logging.LogRecord;

/**
 * One line, not a stack trace, for each connection a gRPC port drops because the peer did not speak gRPC: a
 * {@code curl http://node:9400}, a health probe pointed at the wrong port, a scanner or a client speaking
 * plaintext to a TLS port. grpc-java logs each as "Transport failed" at INFO with the whole Netty stack (some
 * 25-40 lines), so anyone who can open a connection could fill the node's log at will, and the text it echoes
 * is the peer's own bytes (up to 1 KiB of an HTTP/1 request line, newlines included): a forged log line. The
 * line kept names the exception, and its message with control characters escaped and cut to
 * {@link #MAX_DETAIL} characters. Set on the console handler ({@code quarkus.log.console.filter}).
 */
@LoggingFilter(name = ConnectionFailureLog.NAME)
public final class ConnectionFailureLog implements Filter {
    public static final String NAME = "strata-connection-failures";
    /** grpc-java's logger for failed connections (NettyServerTransport's, with ".connections"). */
    static final String LOGGER = "io.grpc.netty.NettyServerTransport.connections";
    static final int MAX_DETAIL = 200;

    @Override
    public boolean isLoggable(LogRecord record) {
        Throwable failure = record.getThrown();
        if (failure != null && LOGGER.equals(record.getLoggerName())) {
            record.setMessage(oneLine(record.getMessage(), failure));
            record.setParameters(null);
            record.setThrown(null);
        }
        return true;
    }

    /** {@code message}, then the failure's class and its message made safe for one log line. */
    static String oneLine(String message, Throwable failure) {
        String detail = failure.getMessage() == null ? "" : failure.getMessage();
        StringBuilder line = new StringBuilder(message == null ? "Transport failed" : message)
                .append(" (the peer did not speak gRPC, or left): ").append(failure.getClass().getSimpleName());
        if (!detail.isEmpty()) {
            line.append(": ");
            int end = Math.min(detail.length(), MAX_DETAIL);
            for (int i = 0; i < end; i++) {
                char c = detail.charAt(i);
                if (c == '\n') {
                    line.append("\\n");
                } else if (c == '\r') {
                    line.append("\\r");
                } else if (Character.isISOControl(c)) {
                    line.append(String.format("\\u%04x", (int) c));
                } else {
                    line.append(c);
                }
            }
            if (detail.length() > MAX_DETAIL) {
                line.append("... (").append(detail.length() - MAX_DETAIL).append(" more characters)");
            }
        }
        return line.toString();
    }
}
