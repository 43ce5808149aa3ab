package io.strata.metadata;

/** A caller's text as an error message quotes it. */
public final class InputText {
    private static final int SHOWN = 64;

    private InputText() {
    }

    /** Whole when short, else its start and its length: an answer never echoes a caller's megabytes. */
    public static String quoted(String text) {
        if (text == null) {
            return "''";
        }
        return text.length() <= SHOWN ? "'" + text + "'"
                : "'" + text.substring(0, SHOWN) + "…' (" + text.length() + " characters)";
    }
}
