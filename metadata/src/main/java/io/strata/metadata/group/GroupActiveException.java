package io.strata.metadata.group;

/** A change that needs a group without live members was asked of a group that has some. */
public final class GroupActiveException extends RuntimeException {
    public GroupActiveException(String group, int members) {
        super("group '" + group + "' has " + members + " live member(s); stop them first or force the change");
    }
}
