package io.strata.metadata;

/** A metadata operation failed. {@link #retryable()} says whether the same call may succeed later. */
public class MetadataException extends RuntimeException {
    private final boolean retryable;

    public MetadataException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    public MetadataException(String message, boolean retryable) {
        this(message, retryable, null);
    }

    public boolean retryable() {
        return retryable;
    }
}
