package io.strata.group;

/** The member is not in the group: it never joined, it left, or its session expired. Join again. */
public final class UnknownMemberException extends RuntimeException {
    public UnknownMemberException(String group, String memberId) {
        super("member '" + memberId + "' is not in group '" + group
                + "' (never joined, left, or its session expired): join again");
    }
}
