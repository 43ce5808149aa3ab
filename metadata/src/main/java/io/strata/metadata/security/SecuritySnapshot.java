package io.strata.metadata.security;

import java.util.List;
import java.util.Map;

/** Every user and ACL of the cluster as of {@code revision}: what a node decides access from. */
public record SecuritySnapshot(long revision, Map<String, User> users, List<Acl> acls) {
    public static final SecuritySnapshot EMPTY = new SecuritySnapshot(0, Map.of(), List.of());

    public SecuritySnapshot {
        users = Map.copyOf(users);
        acls = List.copyOf(acls);
    }
}
