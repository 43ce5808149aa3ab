package io.strata.format;

/**
 * Bytes are not a valid block or chunk: truncated, corrupt (CRC32C mismatch) or not of this format.
 * Never decoded into records: a reader that gets this serves an error, not data.
 */
public class BlockFormatException extends RuntimeException {
    public enum Reason { TRUNCATED, CORRUPT, FOREIGN, UNSUPPORTED_VERSION, INCONSISTENT }

    private final Reason reason;

    public BlockFormatException(Reason reason, String message) {
        super(reason + ": " + message);
        this.reason = reason;
    }

    public BlockFormatException(Reason reason, String message, Throwable cause) {
        super(reason + ": " + message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
