package io.strata.client;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * A failed call to Strata: the gRPC status code and the server's description of what went wrong
 * (for example NOT_FOUND "unknown topic 'orders'"). {@link #unreachable()} tells a failure to reach the
 * node at all (refused connection, unknown host, a connection that closed or a stream the node reset under
 * the call, all UNAVAILABLE) from an answer the node gave.
 */
public final class StrataException extends RuntimeException {
    private final Status.Code code;
    private final String description;
    private final boolean unreachable;
    private final java.util.List<String> nodes;
    private final String reason;

    public StrataException(Status.Code code, String description) {
        this(code, description, "");
    }

    /** @param reason why, as the node named it ({@link #reason()}); empty when it gave no name */
    public StrataException(Status.Code code, String description, String reason) {
        this(code, description, false, null, java.util.List.of(), reason);
    }

    /** A node's refusal of a produce request or entry, as its answer gave it. */
    static StrataException of(io.strata.api.v1.ProduceError error) {
        return new StrataException(Status.fromCodeValue(error.getCode()).getCode(), error.getMessage(), error.getReason());
    }

    private StrataException(Status.Code code, String description, boolean unreachable, Throwable cause,
                            java.util.List<String> nodes, String reason) {
        super(code + ": " + description, cause);
        this.code = code;
        this.description = description;
        this.unreachable = unreachable;
        this.nodes = nodes;
        this.reason = reason == null ? "" : reason;
    }

    /**
     * True when the call surely never reached a node: no connection could be made to it (refused, no route,
     * unknown host). A call that failed otherwise may have been carried out.
     */
    boolean neverSent() {
        if (code != Status.Code.UNAVAILABLE || !unreachable) {
            return false;
        }
        for (Throwable t = getCause(); t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.net.ConnectException || t instanceof java.net.UnknownHostException
                    || t instanceof java.nio.channels.UnresolvedAddressException) {
                return true;
            }
        }
        return false;
    }

    /** The same failure, naming the nodes ("host:port") that were each tried and none of which answered. */
    StrataException triedOn(java.util.List<String> tried) {
        return new StrataException(code, description, unreachable, getCause(), java.util.List.copyOf(tried), reason);
    }

    /**
     * When the client tried several nodes for the call (each node it knows, for calls any node answers) and
     * could reach none: their addresses, in the order tried. Empty otherwise.
     */
    public java.util.List<String> nodes() {
        return nodes;
    }

    public Status.Code code() {
        return code;
    }

    /** The server's description, or for an unreachable node the transport's reason; never empty. */
    public String description() {
        return description;
    }

    /**
     * Why, as a name a program may act on (io.strata.api.ErrorReason: {@code PRODUCER_FENCED}, {@code SEQUENCE_GAP},
     * ...); the description is for people and its words may change. Empty when the node gave no name.
     */
    public String reason() {
        return reason;
    }

    /**
     * Whether the call may succeed asked again later: no node could serve it now (unreachable, starting or
     * stopping: UNAVAILABLE, or CANCELLED as a stopping node resets its calls; overloaded: RESOURCE_EXHAUSTED; too
     * slow: DEADLINE_EXCEEDED), as opposed to a call
     * that is wrong and would be answered the same anywhere (NOT_FOUND, PERMISSION_DENIED, ...) or one that failed
     * in a way nobody foresaw (INTERNAL, UNKNOWN), which asked again would most likely fail the same. A loop that
     * polls or commits goes on after such a failure.
     */
    public boolean retryable() {
        return code == Status.Code.UNAVAILABLE || code == Status.Code.RESOURCE_EXHAUSTED
                || code == Status.Code.DEADLINE_EXCEEDED || code == Status.Code.CANCELLED;
    }

    /** True when no node answered: the connection could not be made or broke before an answer. */
    public boolean unreachable() {
        return unreachable;
    }

    /**
     * Maps any failure of a call to a StrataException. Statuses a node sends never carry a cause on the
     * client side, so an UNAVAILABLE with a cause was produced by the local transport: nobody answered.
     */
    public static StrataException from(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof StrataException e) {
            return e;
        }
        Status status;
        if (t instanceof StatusRuntimeException e) {
            status = e.getStatus();
        } else if (t instanceof StatusException e) {
            status = e.getStatus();
        } else {
            String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            return new StrataException(Status.Code.UNKNOWN, message, false, t, java.util.List.of(), "");
        }
        Status.Code code = status.getCode();
        if (code == Status.Code.UNKNOWN && status.getCause() instanceof java.io.IOException) {
            // gRPC's Netty transport reports a connection that closed under a call as UNKNOWN "channel closed"
            // (a ClosedChannelException): the node went away, as with UNAVAILABLE.
            code = Status.Code.UNAVAILABLE;
        }
        boolean unreachable = code == Status.Code.UNAVAILABLE && status.getCause() != null;
        String description = unreachable ? rootMessage(status.getCause()) : status.getDescription();
        if (code == Status.Code.INTERNAL && description != null && description.startsWith(RESET)) {
            // The node's transport reset the call's stream (an HTTP/2 RST_STREAM with INTERNAL_ERROR, which gRPC
            // reports as INTERNAL): a stopping node's gRPC server resets the streams still open once its event loops
            // stop taking calls. The node did not answer the call: as a connection that closed under it. (Resets
            // for a broken protocol, PROTOCOL_ERROR and the like, stay INTERNAL: they would recur anywhere.)
            code = Status.Code.UNAVAILABLE;
            unreachable = true;
            description = "the node reset the call (HTTP/2 RST_STREAM INTERNAL_ERROR), as a stopping node does";
        }
        if (description == null || description.isBlank()) {
            description = code.name();
        }
        return new StrataException(code, description, unreachable, t, java.util.List.of(),
                io.strata.api.ErrorReason.of(t));
    }

    /** How gRPC's Netty transport describes a call whose stream the peer reset with INTERNAL_ERROR. */
    private static final String RESET = "RST_STREAM closed stream. HTTP/2 error code: INTERNAL_ERROR";

    private static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String rootMessage(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        if (message == null || message.isBlank()) {
            return root.getClass().getSimpleName();
        }
        // Netty's native transport prefixes the system call: "finishConnect(..) failed with error(-111): ".
        return message.replaceFirst("^[\\w$]+\\(\\.\\.\\) failed[^:]*: ", "");
    }
}
