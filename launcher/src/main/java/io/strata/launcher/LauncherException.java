package io.strata.launcher;

/** Something the launcher needs is missing or would not start; the message says what and how to fix it. */
public class LauncherException extends RuntimeException {
    public LauncherException(String message) {
        super(message);
    }

    public LauncherException(String message, Throwable cause) {
        super(message, cause);
    }
}
