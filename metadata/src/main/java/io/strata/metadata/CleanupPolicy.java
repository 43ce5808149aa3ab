package io.strata.metadata;

import java.util.Locale;

/**
 * What compaction does with a topic's old records, as Kafka's {@code cleanup.policy}: delete them by
 * retention, keep the latest record per key (compact), or both.
 */
public enum CleanupPolicy {
    DELETE("delete"),
    COMPACT("compact"),
    COMPACT_DELETE("compact,delete");

    private final String text;

    CleanupPolicy(String text) {
        this.text = text;
    }

    /** Whether retention (by time and size) deletes records. */
    public boolean deletes() {
        return this != COMPACT;
    }

    /** Whether compaction keeps only the latest record per key. */
    public boolean compacts() {
        return this != DELETE;
    }

    /** As users write it: "delete", "compact", "compact,delete" (either order, any case, spaces ignored). */
    public static CleanupPolicy parse(String text) {
        String t = text == null ? "" : text.toLowerCase(Locale.ROOT).replace(" ", "");
        return switch (t) {
            case "delete" -> DELETE;
            case "compact" -> COMPACT;
            case "compact,delete", "delete,compact" -> COMPACT_DELETE;
            default -> throw new IllegalArgumentException("invalid cleanup policy '" + text
                    + "': delete, compact or compact,delete");
        };
    }

    @Override
    public String toString() {
        return text;
    }
}
