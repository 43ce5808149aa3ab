package io.strata.metadata.group;

import java.util.regex.Pattern;

/** What a group name and a member id may be: they are parts of metadata keys, so never a '/'. */
public final class GroupNames {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,249}");

    private GroupNames() {
    }

    public static boolean validGroup(String name) {
        return name != null && NAME.matcher(name).matches() && !name.equals(".") && !name.equals("..");
    }

    public static String requireGroup(String name) {
        if (!validGroup(name)) {
            throw new IllegalArgumentException("invalid group name " + io.strata.metadata.InputText.quoted(name)
                    + ": 1 to 249 of A-Z a-z 0-9 . _ -, and not . or ..");
        }
        return name;
    }

    public static boolean validMember(String id) {
        return validGroup(id);
    }
}
