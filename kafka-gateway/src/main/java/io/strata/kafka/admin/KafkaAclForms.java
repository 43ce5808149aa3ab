package io.strata.kafka.admin;

import io.strata.metadata.security.Acl;
import io.strata.metadata.security.AclOperation;
import io.strata.metadata.security.ResourceType;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;

/**
 * Strata's ACLs in Kafka's words and back (docs/kafka.md, "ACLs"). Kafka's operations are finer than Strata's:
 * several map to one (a topic's ALTER and ALTER_CONFIGS are both {@code alter}, READ is {@code consume}, WRITE
 * {@code produce}, ALL {@code admin}), so a rule read back may name the coarser one. Kafka's literal {@code *} is
 * Strata's empty prefix (every name), Kafka's cluster {@code kafka-cluster} Strata's cluster. Rules Strata cannot
 * hold (a host other than {@code *}, an operation with no Strata counterpart) are refused, saying why. Pure.
 */
public final class KafkaAclForms {
    /** The name Kafka gives the cluster resource. */
    public static final String CLUSTER_NAME = "kafka-cluster";

    private KafkaAclForms() {
    }

    /** Strata's rule for a Kafka binding; IllegalArgumentException naming what Strata cannot hold. */
    public static Acl toStrata(AclBinding binding) {
        AccessControlEntry entry = binding.entry();
        ResourcePattern pattern = binding.pattern();
        if (!"*".equals(entry.host())) {
            throw new IllegalArgumentException("Strata's ACLs do not name hosts: use host '*', not '" + entry.host() + "'");
        }
        if (entry.permissionType() != AclPermissionType.ALLOW && entry.permissionType() != AclPermissionType.DENY) {
            throw new IllegalArgumentException("an ACL allows or denies, not " + entry.permissionType());
        }
        ResourceType type = switch (pattern.resourceType()) {
            case TOPIC -> ResourceType.TOPIC;
            case GROUP -> ResourceType.GROUP;
            case CLUSTER -> ResourceType.CLUSTER;
            case TRANSACTIONAL_ID -> ResourceType.TRANSACTIONAL_ID;
            default -> throw new IllegalArgumentException("Strata has no " + pattern.resourceType()
                    + " resources: topics, groups, transactional ids and the cluster");
        };
        String name = pattern.name();
        boolean prefixed = pattern.patternType() == PatternType.PREFIXED;
        if (pattern.patternType() != PatternType.LITERAL && !prefixed) {
            throw new IllegalArgumentException("a rule's pattern is LITERAL or PREFIXED, not " + pattern.patternType());
        }
        if (type == ResourceType.CLUSTER) {
            if (!CLUSTER_NAME.equals(name) || prefixed) {
                throw new IllegalArgumentException("the cluster resource is the literal '" + CLUSTER_NAME + "'");
            }
            name = "";
        } else if (!prefixed && "*".equals(name)) {
            name = ""; // every name: Strata's empty prefix
            prefixed = true;
        }
        return new Acl(entry.principal(), type, name, prefixed, operation(type, entry.operation()),
                entry.permissionType() == AclPermissionType.DENY);
    }

    /** The Kafka binding for Strata's rule (operation UNKNOWN where Kafka has no counterpart on that resource). */
    public static AclBinding toKafka(Acl acl) {
        org.apache.kafka.common.resource.ResourceType type = switch (acl.resourceType()) {
            case TOPIC -> org.apache.kafka.common.resource.ResourceType.TOPIC;
            case GROUP -> org.apache.kafka.common.resource.ResourceType.GROUP;
            case CLUSTER -> org.apache.kafka.common.resource.ResourceType.CLUSTER;
            case TRANSACTIONAL_ID -> org.apache.kafka.common.resource.ResourceType.TRANSACTIONAL_ID;
        };
        ResourcePattern pattern;
        if (acl.resourceType() == ResourceType.CLUSTER) {
            pattern = new ResourcePattern(type, CLUSTER_NAME, PatternType.LITERAL);
        } else if (acl.prefixed() && acl.resourceName().isEmpty()) {
            pattern = new ResourcePattern(type, "*", PatternType.LITERAL);
        } else {
            pattern = new ResourcePattern(type, acl.resourceName(), acl.prefixed() ? PatternType.PREFIXED : PatternType.LITERAL);
        }
        return new AclBinding(pattern, new AccessControlEntry(acl.principal(), "*", operation(acl.resourceType(),
                acl.operation()), acl.deny() ? AclPermissionType.DENY : AclPermissionType.ALLOW));
    }

    private static AclOperation operation(ResourceType type, org.apache.kafka.common.acl.AclOperation kafka) {
        AclOperation strata = switch (kafka) {
            case ALL -> AclOperation.ADMIN;
            case DESCRIBE, DESCRIBE_CONFIGS -> AclOperation.DESCRIBE;
            case READ -> type == ResourceType.TOPIC || type == ResourceType.GROUP ? AclOperation.CONSUME : null;
            case WRITE -> type == ResourceType.TOPIC || type == ResourceType.TRANSACTIONAL_ID ? AclOperation.PRODUCE
                    : null;
            case CREATE -> type == ResourceType.TOPIC ? AclOperation.CREATE : null;
            case DELETE -> type == ResourceType.TOPIC || type == ResourceType.GROUP ? AclOperation.DELETE : null;
            case ALTER, ALTER_CONFIGS -> switch (type) {
                case TOPIC -> AclOperation.ALTER;
                case GROUP -> AclOperation.ALTER_GROUP;
                case CLUSTER -> AclOperation.ADMIN;
                default -> null;
            };
            default -> null;
        };
        if (strata == null) {
            throw new IllegalArgumentException("Strata has no operation for " + kafka + " on a " + type.label()
                    + (type == ResourceType.CLUSTER && kafka == org.apache.kafka.common.acl.AclOperation.CREATE
                    ? " (to let a principal create every topic: CREATE on the literal topic '*')"
                    : kafka == org.apache.kafka.common.acl.AclOperation.IDEMPOTENT_WRITE
                    ? " (idempotent producers need no ACL of their own in Strata)" : ""));
        }
        return strata;
    }

    private static org.apache.kafka.common.acl.AclOperation operation(ResourceType type, AclOperation strata) {
        return switch (strata) {
            case ADMIN -> org.apache.kafka.common.acl.AclOperation.ALL;
            case DESCRIBE -> org.apache.kafka.common.acl.AclOperation.DESCRIBE;
            case CONSUME -> org.apache.kafka.common.acl.AclOperation.READ;
            case PRODUCE -> org.apache.kafka.common.acl.AclOperation.WRITE;
            case CREATE -> type == ResourceType.TOPIC ? org.apache.kafka.common.acl.AclOperation.CREATE
                    : org.apache.kafka.common.acl.AclOperation.UNKNOWN;
            case DELETE -> org.apache.kafka.common.acl.AclOperation.DELETE;
            case ALTER -> type == ResourceType.TOPIC ? org.apache.kafka.common.acl.AclOperation.ALTER
                    : org.apache.kafka.common.acl.AclOperation.UNKNOWN;
            case ALTER_GROUP -> type == ResourceType.GROUP ? org.apache.kafka.common.acl.AclOperation.ALTER
                    : org.apache.kafka.common.acl.AclOperation.UNKNOWN;
        };
    }
}
