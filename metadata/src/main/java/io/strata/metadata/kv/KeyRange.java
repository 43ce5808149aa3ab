package io.strata.metadata.kv;

/** The keys from {@code from} (included) up to {@code to} (excluded), at most the first {@code limit} of them. */
public record KeyRange(String from, String to, int limit) {
    public KeyRange {
        if (from == null || to == null || limit < 1) {
            throw new IllegalArgumentException("invalid key range " + from + ".." + to + " limit " + limit);
        }
    }
}
