package io.strata.metadata.security;

import java.util.List;
import java.util.Map;

/** Every user, ACL and quota (by entity) of the cluster as of {@code revision}: what a node decides access from. */
public record SecuritySnapshot(long revision, Map<String, User> users, List<Acl> acls, Map<String, Quota> quotas) {
    public static final SecuritySnapshot EMPTY = new SecuritySnapshot(0, Map.of(), List.of(), Map.of());

    public SecuritySnapshot {
        users = Map.copyOf(users);
        acls = List.copyOf(acls);
        quotas = Map.copyOf(quotas);
    }
}
