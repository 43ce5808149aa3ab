package io.strata.compaction.gc;

import io.strata.metadata.GcMarker;

/**
 * What the garbage collector does with one listed object, from what it knows: whether an index entry
 * references it (read after every marker it holds was written), its marker, its age. Pure.
 *
 * <p>Why two passes: an unreferenced object is first marked; while the marker exists, no commit and no
 * compaction can reference it any more (their transactions guard the marker's absence). It is deleted in a
 * later pass, once it is still unreferenced in an index read made after the marker, and the grace period
 * has passed since the marker (readers holding an older index may still read it until then). An object
 * younger than the grace period is not even marked: its commit may simply not have happened yet.
 */
public final class GcPolicy {
    private GcPolicy() {
    }

    public enum Action {
        /** Leave it (referenced, or too young, or within its grace). */
        KEEP,
        /** Unreferenced and old enough: mark it, so it can never be referenced again. */
        MARK,
        /** Referenced after all (a commit that landed before its marker): drop the marker. */
        UNMARK,
        /** Marked, still unreferenced, past the grace since: delete the object. */
        DELETE
    }

    public static Action decide(boolean referenced, GcMarker marker, long lastModifiedMs, long now, long graceMs) {
        if (referenced) {
            return marker == null ? Action.KEEP : Action.UNMARK;
        }
        if (marker == null) {
            return lastModifiedMs <= now - graceMs ? Action.MARK : Action.KEEP;
        }
        return marker.firstUnreferencedMs() <= now - graceMs ? Action.DELETE : Action.KEEP;
    }

    /**
     * Whether a marker may go: its object was deleted (or is gone) and was uploaded so long ago that no commit
     * of it can still be under way ({@code commitWindowMs}); until then the marker keeps fencing such commits.
     */
    public static boolean markerExpired(GcMarker marker, boolean objectListed, long now, long commitWindowMs) {
        return !objectListed && marker.lastModifiedMs() <= now - commitWindowMs;
    }
}
