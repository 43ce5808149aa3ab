package io.strata.metadata.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One access rule: {@code principal} may (or, with {@code deny}, may not) do {@code operation} on the resources
 * {@code resourceName} names, literally or, with {@code prefixed}, as a prefix. The cluster has one resource,
 * named "" (literal). Principals are "User:NAME", "Group:NAME" or "User:*" (everyone signed in).
 */
public record Acl(String principal, ResourceType resourceType, String resourceName, boolean prefixed,
                  AclOperation operation, boolean deny) {
    public static final int MAX_PRINCIPAL_CHARS = 512;
    public static final int MAX_RESOURCE_CHARS = 249;

    public Acl {
        if (principal == null || resourceType == null || resourceName == null || operation == null) {
            throw new IllegalArgumentException("an ACL needs a principal, a resource and an operation");
        }
        Principals.requireValid(principal);
        if (resourceType == ResourceType.CLUSTER && (!resourceName.isEmpty() || prefixed)) {
            throw new IllegalArgumentException("the cluster resource has no name");
        }
        if (resourceType != ResourceType.CLUSTER && resourceName.isEmpty() && !prefixed) {
            throw new IllegalArgumentException("a " + resourceType.label() + " ACL names a " + resourceType.label()
                    + " or a prefix");
        }
        if (resourceName.length() > MAX_RESOURCE_CHARS) {
            throw new IllegalArgumentException("a resource name has at most " + MAX_RESOURCE_CHARS + " characters");
        }
    }

    /** Whether this rule is about {@code type} {@code name}. */
    public boolean covers(ResourceType type, String name) {
        return resourceType == type && (prefixed ? name.startsWith(resourceName) : name.equals(resourceName));
    }

    /** Where the rule is kept: derived from the whole rule, so the same rule is stored once whoever adds it. */
    public String id() {
        String canonical = principal + "\n" + resourceType.ordinal() + "\n" + resourceName + "\n" + prefixed + "\n"
                + operation.ordinal() + "\n" + deny;
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 20);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** "allow User:alice produce topic prefix logs-": one line for tables and logs. */
    @Override
    public String toString() {
        String resource = resourceType == ResourceType.CLUSTER ? "cluster"
                : resourceType.label() + (prefixed ? " prefix " : " ") + resourceName;
        return (deny ? "deny " : "allow ") + principal + " " + operation.label() + " " + resource;
    }
}
