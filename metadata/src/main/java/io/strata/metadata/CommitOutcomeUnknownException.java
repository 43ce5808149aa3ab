package io.strata.metadata;

/**
 * A commit transaction was sent but its answer was lost (timeout, connection reset): it may or may not
 * have been applied. Never blindly redone: callers fail the producers (who retry), and the object becomes
 * an orphan only if the commit did not happen.
 */
public class CommitOutcomeUnknownException extends MetadataException {
    public CommitOutcomeUnknownException(String message, Throwable cause) {
        super(message, false, cause);
    }
}
