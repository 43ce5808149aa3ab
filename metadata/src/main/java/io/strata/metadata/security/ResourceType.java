package io.strata.metadata.security;

import java.util.Locale;

/** What an ACL is about. Stored by ordinal ({@code AclValue.resource_type}): new types go at the end. */
public enum ResourceType {
    TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID;

    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }
}
