package io.strata.metadata.security;

import java.util.Locale;

/**
 * What an ACL allows or denies. Stored by ordinal ({@code AclValue.operation}): new operations go at the end.
 * {@link #ADMIN} on the cluster is everything (users, ACLs, quotas); on a topic or group it implies every other
 * operation there.
 */
public enum AclOperation {
    PRODUCE, CONSUME, DESCRIBE, CREATE, ALTER, DELETE, ALTER_GROUP, ADMIN;

    /** "produce", "alter-group": as the command line and docs spell it. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The operation a label names ("alter-group" or "ALTER_GROUP"); IllegalArgumentException listing them else. */
    public static AclOperation parse(String label) {
        String normal = label == null ? "" : label.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (AclOperation o : values()) {
            if (o.name().equals(normal)) {
                return o;
            }
        }
        throw new IllegalArgumentException("unknown operation '" + label + "'; one of produce, consume, describe, "
                + "create, alter, delete, alter-group, admin");
    }
}
