package io.strata.client;

/** Which offset of a partition {@link Admin#listOffsets} looks up. */
public sealed interface OffsetQuery {
    /** The first offset still stored (the log start). */
    record Earliest() implements OffsetQuery {}

    /** The end: the offset the next record will get. */
    record Latest() implements OffsetQuery {}

    /** The first offset whose record timestamp is at or after {@code timestampMs}; the end when there is none. */
    record AtTimestamp(long timestampMs) implements OffsetQuery {}

    static OffsetQuery earliest() {
        return new Earliest();
    }

    static OffsetQuery latest() {
        return new Latest();
    }

    static OffsetQuery atTimestamp(long timestampMs) {
        return new AtTimestamp(timestampMs);
    }
}
