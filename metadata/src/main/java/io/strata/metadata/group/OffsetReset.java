package io.strata.metadata.group;

/** Where a member starts a partition of its group that has no committed offset. */
public enum OffsetReset {
    /** At the partition's log start: every record still stored. */
    EARLIEST,
    /** At the partition's end: only records written from now on. */
    LATEST
}
