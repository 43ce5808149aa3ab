package io.strata.metadata.group;

/** A member asked to join under an id that a live member of the group already has. */
public final class MemberIdTakenException extends RuntimeException {
    public MemberIdTakenException(String group, String memberId) {
        super("group '" + group + "' already has a member '" + memberId + "'");
    }
}
