package io.strata.server.net;

import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.ssl.NotSslRecordException;
import io.strata.metadata.InputText;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One line at INFO, not a stack trace, for what a peer's bytes make grpc-java log: a connection dropped because
 * the peer did not speak gRPC (a {@code curl http://node:9400}, a probe on the wrong port, a scanner, plaintext
 * to a TLS port: "Transport failed", 25-40 lines of Netty stack), and a message refused on an open stream (one
 * over {@code max-inbound-message-size}, or marked compressed without an encoding: "Exception processing
 * message", a WARNING with its stack, once per stream, so once per ~80 bytes a peer sends; health checks take it
 * without credentials). Anyone who can connect could otherwise fill the node's log at will, and the text echoed is
 * the peer's own (up to 1 KiB of an HTTP/1 request line, newlines included): a forged log line. The line kept
 * names the exception at the root of it, with its text escaped as the audit log's fields are
 * ({@link InputText#appendEscaped}) and cut to {@link #MAX_DETAIL} characters. Failures of the node's own on those
 * loggers (no peer's bytes behind them) keep their stack. A filter on the two loggers ({@link #install()}), so every handler sees the same line.
 */
public final class ConnectionFailureLog implements Filter {
    /** grpc-java's logger for failed connections (NettyServerTransport's, with ".connections"). */
    static final String CONNECTIONS = "io.grpc.netty.NettyServerTransport.connections";
    /** grpc-java's logger for a stream whose inbound message could not be read. */
    static final String STREAMS = "io.grpc.netty.NettyServerStream";
    static final int MAX_DETAIL = 200;
    /** The loggers filtered, held: a logger nobody references may be collected with its filter. */
    private static final List<Logger> FILTERED = new CopyOnWriteArrayList<>();

    /** Puts the filter on grpc-java's two loggers (once; again is a no-op). */
    public static synchronized void install() {
        for (String name : List.of(CONNECTIONS, STREAMS)) {
            Logger logger = Logger.getLogger(name);
            if (!(logger.getFilter() instanceof ConnectionFailureLog)) {
                logger.setFilter(new ConnectionFailureLog());
                FILTERED.add(logger);
            }
        }
    }

    @Override
    public boolean isLoggable(LogRecord record) {
        Throwable failure = record.getThrown();
        Throwable peers = failure == null ? null : peerCaused(record.getLoggerName(), failure);
        if (peers != null) {
            record.setMessage(oneLine(record.getMessage(), peers));
            record.setParameters(null);
            record.setThrown(null);
            if (record.getLevel().intValue() > Level.INFO.intValue()) {
                record.setLevel(Level.INFO); // the peer's mistake, answered with a precise status: not the node's
            }
        }
        return true;
    }

    /** The exception a peer's bytes caused, at the root of {@code failure}; null when it is the node's own. */
    static Throwable peerCaused(String logger, Throwable failure) {
        if (STREAMS.equals(logger)) {
            return failure instanceof StatusRuntimeException || failure instanceof StatusException ? failure : null;
        }
        if (!CONNECTIONS.equals(logger)) {
            return null;
        }
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 8; t = t.getCause(), depth++) {
            // IOException covers TLS's SSLException: a handshake the peer failed, or closed mid-way.
            if (t instanceof Http2Exception || t instanceof IOException || t instanceof NotSslRecordException) {
                return t;
            }
        }
        return null;
    }

    /** {@code message}, then the failure's class and its message made safe for one log line. */
    static String oneLine(String message, Throwable failure) {
        String detail = failure.getMessage() == null ? "" : failure.getMessage();
        StringBuilder line = new StringBuilder(message == null ? "Transport failed" : message)
                .append(" (caused by the peer): ").append(failure.getClass().getSimpleName());
        if (!detail.isEmpty() && InputText.appendEscaped(line.append(": "), detail, MAX_DETAIL)) {
            line.append("... (").append(detail.length() - MAX_DETAIL).append(" more characters)");
        }
        return line.toString();
    }
}
