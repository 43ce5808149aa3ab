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
    private static final java.util.regex.Pattern RESOURCE = java.util.regex.Pattern.compile("[A-Za-z0-9._-]{0,249}");

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
        if (!RESOURCE.matcher(resourceName).matches()) {
            throw new IllegalArgumentException("a topic or group name (or prefix) is at most " + MAX_RESOURCE_CHARS
                    + " of A-Z a-z 0-9 . _ -, not " + io.strata.metadata.InputText.quoted(resourceName));
        }
    }

    /** Whether this rule is about {@code type} {@code name}. */
    public boolean covers(ResourceType type, String name) {
        return resourceType == type && (prefixed ? name.startsWith(resourceName) : name.equals(resourceName));
    }

    /** Where the rule is kept: derived from the whole rule, so the same rule is stored once whoever adds it. */
    public String id() {
        // Each text field with its length first: no two rules give the same text.
        String canonical = principal.length() + ":" + principal + "|" + resourceType.ordinal() + "|"
                + resourceName.length() + ":" + resourceName + "|" + prefixed + "|" + operation.ordinal() + "|" + deny;
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
