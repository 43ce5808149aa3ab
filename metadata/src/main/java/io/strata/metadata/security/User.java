package io.strata.metadata.security;

import java.util.List;
import java.util.regex.Pattern;

/** A user who signs in with a password, known by its SCRAM material only; {@code groups} name ACL groups. */
public record User(String name, ScramCredential credential, List<String> groups, long createdAtMs) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,128}");

    public User {
        requireName(name);
        if (credential == null) {
            throw new IllegalArgumentException("a user needs a credential");
        }
        groups = List.copyOf(groups);
        for (String g : groups) {
            requireName(g);
        }
    }

    /** User and group names: 1 to 128 of A-Z a-z 0-9 . _ @ -. */
    public static String requireName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a user or group name is 1 to 128 of A-Z a-z 0-9 . _ @ -, not "
                    + io.strata.metadata.InputText.quoted(name == null ? "" : name));
        }
        return name;
    }
}
