package io.strata.storage.object;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The key of one immutable object. Restricted to characters that are safe both as an S3 key and as a
 * relative path on every local file system, so the two adapters store the same names.
 */
public record ObjectKey(String value) implements Comparable<ObjectKey> {
    private static final Pattern ALLOWED = Pattern.compile("[A-Za-z0-9._=-]+(/[A-Za-z0-9._=-]+)*");
    public static final int MAX_BYTES = 512;

    public ObjectKey {
        if (value == null || value.isEmpty() || value.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES
                || !ALLOWED.matcher(value).matches()) {
            throw new IllegalArgumentException("invalid object key: " + value);
        }
        for (String segment : value.split("/")) {
            if (segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("invalid object key (dot segment): " + value);
            }
        }
    }

    public static ObjectKey of(String value) {
        return new ObjectKey(value);
    }

    @Override
    public int compareTo(ObjectKey other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
