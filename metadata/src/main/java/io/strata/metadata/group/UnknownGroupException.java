package io.strata.metadata.group;

/** The group does not exist (never joined, or deleted). */
public final class UnknownGroupException extends RuntimeException {
    public UnknownGroupException(String group) {
        super("unknown group " + io.strata.metadata.InputText.quoted(group));
    }
}
