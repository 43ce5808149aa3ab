package io.strata.metadata;

import java.util.regex.Pattern;

/**
 * What a user asks for when creating a topic. Retention values of 0 or less mean "keep forever";
 * {@code deleteRetentionMs} (how long a compacted topic keeps tombstones) defaults to a day.
 */
public record TopicConfig(String name, int partitions, long retentionMs, long retentionBytes,
                          CleanupPolicy cleanupPolicy, long deleteRetentionMs) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,249}");
    public static final int MAX_PARTITIONS = 100_000;
    public static final int MAX_NAME_LENGTH = 249;

    /** Whether a topic may have this name (1 to 249 of A-Z a-z 0-9 . _ -, not "." or ".."). */
    public static boolean validName(String name) {
        return name != null && NAME.matcher(name).matches() && !name.equals(".") && !name.equals("..");
    }

    public TopicConfig {
        if (!validName(name)) {
            throw new IllegalArgumentException(
                    "invalid topic name " + InputText.quoted(name) + ": 1 to 249 of the characters A-Z a-z 0-9 . _ -");
        }
        if (partitions < 1 || partitions > MAX_PARTITIONS) {
            throw new IllegalArgumentException(
                    "invalid partition count " + partitions + ": must be 1 to " + MAX_PARTITIONS);
        }
        if (deleteRetentionMs < 0) {
            throw new IllegalArgumentException("delete retention must not be negative");
        }
        retentionMs = Math.max(retentionMs, -1);
        retentionBytes = Math.max(retentionBytes, -1);
        cleanupPolicy = cleanupPolicy == null ? CleanupPolicy.DELETE : cleanupPolicy;
    }

    /** A topic whose old records are deleted by retention. */
    public TopicConfig(String name, int partitions, long retentionMs, long retentionBytes) {
        this(name, partitions, retentionMs, retentionBytes, CleanupPolicy.DELETE, Topic.DEFAULT_DELETE_RETENTION_MS);
    }
}
