package io.strata.console.api;

import io.grpc.Status;
import java.util.Locale;

/**
 * gRPC statuses as Connect's unary protocol answers them over HTTP: the status code as a lower-case name in a JSON
 * body, and the HTTP status Connect assigns to it, so a browser, curl or any Connect client reads the same error a
 * gRPC client gets.
 */
public final class ConnectErrors {
    private ConnectErrors() {
    }

    /** The HTTP status Connect gives {@code code}. */
    public static int httpStatus(Status.Code code) {
        return switch (code) {
            case OK -> 200;
            case CANCELLED -> 499;
            case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
            case DEADLINE_EXCEEDED -> 504;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, ABORTED -> 409;
            case PERMISSION_DENIED -> 403;
            case RESOURCE_EXHAUSTED -> 429;
            case UNIMPLEMENTED -> 501;
            case UNAVAILABLE -> 503;
            case UNAUTHENTICATED -> 401;
            case UNKNOWN, INTERNAL, DATA_LOSS -> 500;
        };
    }

    /** Connect's name of {@code code}: "not_found", "invalid_argument", ... */
    public static String name(Status.Code code) {
        return code == Status.Code.CANCELLED ? "canceled" : code.name().toLowerCase(Locale.ROOT);
    }

    /** An answer of {@code httpStatus} with Connect's error body. */
    public static JsonCalls.Answer of(int httpStatus, String code, String message) {
        return new JsonCalls.Answer(httpStatus, "{\"code\":\"" + code + "\",\"message\":" + quoted(message) + "}");
    }

    /** The answer to a call that ended with {@code status}. */
    public static JsonCalls.Answer of(Status status) {
        String message = status.getDescription() != null ? status.getDescription()
                : status.getCause() != null ? String.valueOf(status.getCause().getMessage()) : "";
        return of(httpStatus(status.getCode()), name(status.getCode()), message);
    }

    /** {@code text} as a JSON string. */
    static String quoted(String text) {
        return new com.google.gson.JsonPrimitive(text).toString();
    }
}
