package io.strata.security;

import io.strata.metadata.security.Acl;
import io.strata.metadata.security.AclOperation;
import io.strata.metadata.security.Principals;
import io.strata.metadata.security.ResourceType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides whether an identity may do an operation on a resource, from the cluster's ACLs: pure, so every node
 * given the same rules decides alike. Super-users may do everything. Otherwise a rule applies when it names the
 * identity's principal, one of its groups, or "User:*", and covers the resource (literally or by prefix); a
 * deny that applies wins over any allow; without an allow that applies the answer is no. An allow of
 * {@code admin} on a resource allows every operation on it, and on the cluster every operation anywhere; an allow
 * of any operation on a resource allows {@code describe} too (one may see what one may use); {@code create}
 * on the cluster allows creating any topic. A deny applies to its own operation, and a deny of {@code admin} to
 * every operation; on the cluster a deny reaches as far as the same allow would (admin: everything anywhere;
 * create: creating any topic).
 */
public final class AccessPolicy {
    private final Map<String, List<Acl>> byPrincipal;
    private final Set<String> superUsers;

    public AccessPolicy(List<Acl> acls, Set<String> superUsers) {
        Map<String, List<Acl>> index = new HashMap<>();
        for (Acl a : acls) {
            index.computeIfAbsent(a.principal(), k -> new ArrayList<>()).add(a);
        }
        index.replaceAll((k, v) -> List.copyOf(v));
        this.byPrincipal = Map.copyOf(index);
        this.superUsers = Set.copyOf(superUsers);
    }

    public boolean superUser(Identity who) {
        return superUsers.contains(who.principal());
    }

    /** {@code name} is "" for the cluster. */
    public boolean allowed(Identity who, AclOperation op, ResourceType type, String name) {
        if (who.unknown()) {
            return false;
        }
        if (superUser(who)) {
            return true;
        }
        boolean allowed = false;
        for (List<Acl> rules : rulesOf(who)) {
            for (Acl a : rules) {
                if (a.deny()) {
                    if (denies(a, op, type, name)) {
                        return false;
                    }
                } else if (!allowed && grants(a, op, type, name)) {
                    allowed = true;
                }
            }
        }
        return allowed;
    }

    /** A deny mirrors what the same allow would grant: on the cluster, admin everywhere and create of topics. */
    private static boolean denies(Acl a, AclOperation op, ResourceType type, String name) {
        if (a.resourceType() == ResourceType.CLUSTER && type != ResourceType.CLUSTER) {
            return reachesFromCluster(a, op, type);
        }
        return (a.operation() == op || a.operation() == AclOperation.ADMIN) && a.covers(type, name);
    }

    /** What a rule on the cluster says about a topic or group: admin is everything, create is creating topics. */
    private static boolean reachesFromCluster(Acl a, AclOperation op, ResourceType type) {
        return a.operation() == AclOperation.ADMIN
                || (a.operation() == AclOperation.CREATE && op == AclOperation.CREATE && type == ResourceType.TOPIC);
    }

    private static boolean grants(Acl a, AclOperation op, ResourceType type, String name) {
        if (a.resourceType() == ResourceType.CLUSTER && type != ResourceType.CLUSTER) {
            return reachesFromCluster(a, op, type);
        }
        if (!a.covers(type, name)) {
            return false;
        }
        return a.operation() == op || a.operation() == AclOperation.ADMIN || op == AclOperation.DESCRIBE;
    }

    private List<List<Acl>> rulesOf(Identity who) {
        List<List<Acl>> lists = new ArrayList<>(2 + who.groups().size());
        add(lists, who.principal());
        if (who.principal().startsWith(Principals.USER)) {
            add(lists, Principals.ANY_USER);
        }
        for (String g : who.groups()) {
            add(lists, Principals.group(g));
        }
        return lists;
    }

    private void add(List<List<Acl>> lists, String principal) {
        List<Acl> rules = byPrincipal.get(principal);
        if (rules != null) {
            lists.add(rules);
        }
    }
}
