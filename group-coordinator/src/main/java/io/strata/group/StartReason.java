package io.strata.group;

/** Why a member starts an assigned partition where it does. */
public enum StartReason {
    /** At the group's committed offset. */
    COMMITTED,
    /** No committed offset: at the log start (the member's reset policy is earliest). */
    EARLIEST,
    /** No committed offset: at the end (the member's reset policy is latest). */
    LATEST,
    /** The committed offset is below the log start (retention moved it): at the log start. */
    COMMITTED_BELOW_LOG_START
}
