package io.strata.metadata.security;

/** The principal names ACLs and quotas are written for: "User:NAME", "Group:NAME", "User:*". */
public final class Principals {
    public static final String USER = "User:";
    public static final String GROUP = "Group:";
    /** In an ACL: every principal that signed in. */
    public static final String ANY_USER = "User:*";

    private Principals() {
    }

    public static String user(String name) {
        return USER + name;
    }

    public static String group(String name) {
        return GROUP + name;
    }

    /** Refuses what is not a principal name, saying what is. */
    public static String requireValid(String principal) {
        if (principal == null || !(principal.startsWith(USER) || principal.startsWith(GROUP))
                || principal.length() == principal.indexOf(':') + 1) {
            throw new IllegalArgumentException("a principal is User:NAME or Group:NAME, not '"
                    + (principal == null ? "" : principal.length() > 64 ? principal.substring(0, 64) + "…" : principal)
                    + "'");
        }
        if (principal.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029)) {
            throw new IllegalArgumentException("a principal has no control characters");
        }
        if (principal.length() > Acl.MAX_PRINCIPAL_CHARS) {
            throw new IllegalArgumentException("a principal has at most " + Acl.MAX_PRINCIPAL_CHARS + " characters");
        }
        return principal;
    }
}
