package io.strata.client;

/**
 * The answer of {@link Admin#listOffsets}: the offset, and for a timestamp look-up the timestamp of the
 * record at it (-1 otherwise, or when no record is at or after the time asked for).
 */
public record ListedOffset(long offset, long timestampMs) {
}
