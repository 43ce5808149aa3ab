package io.strata.metadata;

/** A caller's text as an error message quotes it, and as a log line carries it. */
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
    /**
     * Appends at most {@code max} characters of {@code text} (never half a surrogate pair) escaped as in a JSON
     * string, line separators and every control character included, so a caller's text stays on its log line and
     * cannot forge another. Answers whether the text was cut.
     */
    public static boolean appendEscaped(StringBuilder line, String text, int max) {
        boolean cut = text.length() > max;
        int end = cut && Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : Math.min(text.length(), max);
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> line.append("\\\"");
                case '\\' -> line.append("\\\\");
                case '\n' -> line.append("\\n");
                case '\r' -> line.append("\\r");
                case '\t' -> line.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029) {
                        line.append(String.format("\\u%04x", (int) c));
                    } else {
                        line.append(c);
                    }
                }
            }
        }
        return cut;
    }
}
