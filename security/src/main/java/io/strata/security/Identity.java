package io.strata.security;

import io.strata.metadata.security.Principals;
import java.util.List;

/**
 * Who a call comes from: a principal ("User:alice") and the groups it belongs to (ACLs for "Group:ops" apply to
 * members of ops), and how it proved it ({@code via}: password, certificate, token), for audit lines.
 */
public record Identity(String principal, List<String> groups, String via) {
    /** A caller that gave no credentials, where the node lets such callers in (strata.auth.mode=none). */
    public static final Identity ANONYMOUS = new Identity("User:ANONYMOUS", List.of(), "none");

    /**
     * Where no identity was established (a call whose context lost it): every check refuses it, User:* rules
     * included.
     */
    public static final Identity UNKNOWN = new Identity("User:<unknown>", List.of(), "none");

    public Identity {
        Principals.requireValid(principal);
        groups = List.copyOf(groups);
    }

    public static Identity user(String name, List<String> groups, String via) {
        return new Identity(Principals.user(name), groups, via);
    }

    public boolean unknown() {
        return this == UNKNOWN;
    }

    public boolean anonymous() {
        return this == ANONYMOUS;
    }
}
