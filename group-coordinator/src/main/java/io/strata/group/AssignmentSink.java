package io.strata.group;

/** Where a member's assignment stream goes. Called from the coordinator's threads, one call at a time. */
public interface AssignmentSink {
    void onAssignment(MemberAssignment assignment);

    /** The stream ended: the member is gone ({@link UnknownMemberException}) or the node is stopping. */
    void onEnd(Throwable cause);
}
