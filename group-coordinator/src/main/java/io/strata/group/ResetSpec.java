package io.strata.group;

/** Where a reset moves a group's committed offsets. Results are kept within each partition's stored range. */
public sealed interface ResetSpec {
    record Earliest() implements ResetSpec {
    }

    record Latest() implements ResetSpec {
    }

    record ToOffset(long offset) implements ResetSpec {
    }

    /** The first record at or after the time (epoch milliseconds). */
    record ToTimestamp(long timestampMs) implements ResetSpec {
    }

    /** The committed offset moved by {@code delta} (negative: back); from the log start where none is committed. */
    record ShiftBy(long delta) implements ResetSpec {
    }
}
