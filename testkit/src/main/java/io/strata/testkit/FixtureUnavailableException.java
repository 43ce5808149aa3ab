package io.strata.testkit;

/**
 * Infrastructure a test needs could not be started. Tests fail with it (never skip), and its message says
 * what is missing and how to install it.
 */
public class FixtureUnavailableException extends RuntimeException {
    public FixtureUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    public FixtureUnavailableException(String message) {
        super(message);
    }
}
