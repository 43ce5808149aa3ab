package io.strata.group;

/** This node hosts as many member sessions as it may ({@code strata.groups.max-members-per-node}). */
public final class TooManyMembersException extends RuntimeException {
    public TooManyMembersException(int max) {
        super("this node hosts " + max + " group members, its limit (strata.groups.max-members-per-node): "
                + "connect to another node or raise the limit");
    }
}
