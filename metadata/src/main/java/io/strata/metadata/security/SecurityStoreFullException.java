package io.strata.metadata.security;

/** The cluster holds the most users, ACLs or quotas it keeps: one more is refused until some are removed. */
public final class SecurityStoreFullException extends IllegalStateException {
    public SecurityStoreFullException(String message) {
        super(message);
    }
}
