package io.strata.transactions.half;

/**
 * What a decision on a half message does, and when an undecided one is checked: pure functions the door and the
 * owning fetch node apply under compare-and-set.
 */
public final class HalfDecisions {
    /** Check-back defaults (RocketMQ's): first a minute after the send, then every minute, fifteen times. */
    public static final long DEFAULT_CHECK_INTERVAL_MS = 60_000;
    public static final int DEFAULT_MAX_CHECKS = 15;
    /** How long a settled message's state stays, so a decision sent again is answered as it stands. */
    public static final long SETTLED_KEPT_MS = 10 * 60_000;

    private HalfDecisions() {
    }

    /** A decision's outcome: the state to write (null: nothing to write), and what stands afterwards. */
    public record Outcome(HalfState write, HalfState.Status stands, String refusal) {
        public boolean refused() {
            return refusal != null;
        }
    }

    /**
     * A producer's (or an operator's, or a check-back's) decision on a half message whose state is {@code current}
     * (null: none stored), where {@code scannedPast} says whether the owning node has read past it in its half log
     * already (then a missing state means it was settled long ago).
     */
    public static Outcome decide(HalfState current, boolean scannedPast, boolean commit, String by) {
        HalfState.Status asked = commit ? HalfState.Status.COMMIT : HalfState.Status.ROLLBACK;
        if (current == null) {
            if (scannedPast) {
                return new Outcome(null, null, "decided and settled more than " + SETTLED_KEPT_MS / 60_000
                        + " minutes ago");
            }
            return new Outcome(HalfState.decidedAhead(commit, by), asked, null);
        }
        if (current.status() == HalfState.Status.PENDING) {
            return new Outcome(current.decided(commit, by), asked, null);
        }
        if (current.status().committed() == commit) {
            return new Outcome(null, current.status(), null); // the same decision again: it stands
        }
        return new Outcome(null, current.status(), "already " + (current.status().committed() ? "committed"
                : "rolled back") + " (by " + current.decidedBy() + ")");
    }

    /** What is due for a pending half message at {@code nowMs}. */
    public enum Due { WAIT, CHECK, GIVE_UP }

    public static Due due(HalfState state, long nowMs, int maxChecks) {
        if (state.status() != HalfState.Status.PENDING || nowMs < state.nextCheckMs()) {
            return Due.WAIT;
        }
        return state.checks() >= maxChecks ? Due.GIVE_UP : Due.CHECK;
    }
}
