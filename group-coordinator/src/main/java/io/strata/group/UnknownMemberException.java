package io.strata.group;

/** The member is not in the group: it never joined, it left, or its session expired. Join again. */
public final class UnknownMemberException extends RuntimeException {
    public UnknownMemberException(String group, String memberId) {
        super("member " + io.strata.metadata.InputText.quoted(memberId) + " is not in group "
                + io.strata.metadata.InputText.quoted(group) + " (never joined, left, or its session expired): join again");
    }
}
