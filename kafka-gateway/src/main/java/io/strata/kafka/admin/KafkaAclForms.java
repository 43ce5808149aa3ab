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
 * Strata's ACLs in Kafka's words and back (docs/kafka.md, "ACLs through Kafka's tools"), operation for operation
 * (READ is {@code consume}, WRITE {@code produce}, ALL {@code admin}, ...), so a rule reads back as it was made.
 * Kafka's literal {@code *} is Strata's empty prefix (every name), Kafka's cluster {@code kafka-cluster} Strata's
 * cluster. Rules Strata cannot hold as Kafka means them (a host other than {@code *}, Kafka's finer operations,
 * Alter on the cluster or a group, a deny on the cluster of anything but Describe, an empty prefix) are refused,
 * saying why; Strata's rules Kafka has no words for are left out of Kafka's lists. Pure.
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
        } else if (prefixed && name.isEmpty()) {
            throw new IllegalArgumentException("a prefix names at least one character: every name is the literal '*'");
        } else if (!prefixed && "*".equals(name)) {
            name = ""; // every name: Strata's empty prefix
            prefixed = true;
        }
        boolean deny = entry.permissionType() == AclPermissionType.DENY;
        AclOperation operation = STRATA.get(new Form(type, entry.operation()));
        if (operation == null) {
            throw new IllegalArgumentException("Strata has no operation for " + entry.operation() + " on a "
                    + type.label() + hint(type, entry.operation()));
        }
        if (deny && type == ResourceType.CLUSTER && operation != AclOperation.DESCRIBE) {
            // Strata's admin and create on the cluster reach topics and groups: their deny would lock out more than
            // Kafka's does (a denied cluster CREATE in Kafka still lets topic CREATE rules create topics).
            throw new IllegalArgumentException("a deny of " + entry.operation() + " on the cluster would deny it on "
                    + "every topic in Strata: deny the operations on the topics or groups instead");
        }
        return new Acl(entry.principal(), type, name, prefixed, operation, deny);
    }

    /** The Kafka binding for Strata's rule; empty for a rule Kafka has no words for (shown by strata acls only). */
    public static java.util.Optional<AclBinding> toKafka(Acl acl) {
        org.apache.kafka.common.acl.AclOperation operation = KAFKA.get(new Strata(acl.resourceType(), acl.operation()));
        if (operation == null) {
            return java.util.Optional.empty();
        }
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
        return java.util.Optional.of(new AclBinding(pattern, new AccessControlEntry(acl.principal(), "*", operation,
                acl.deny() ? AclPermissionType.DENY : AclPermissionType.ALLOW)));
    }

    private record Form(ResourceType type, org.apache.kafka.common.acl.AclOperation operation) {
    }

    private record Strata(ResourceType type, AclOperation operation) {
    }

    /**
     * Kafka's operation on a resource type and Strata's, one to one (so a rule reads back as it was made and a
     * filter removes what it names). Kafka's finer ones (DescribeConfigs, AlterConfigs, IdempotentWrite,
     * ClusterAction) have no entry: Strata's nearest right gives more.
     */
    private static final java.util.Map<Form, AclOperation> STRATA = new java.util.HashMap<>();
    private static final java.util.Map<Strata, org.apache.kafka.common.acl.AclOperation> KAFKA = new java.util.HashMap<>();

    private static void pair(ResourceType type, org.apache.kafka.common.acl.AclOperation kafka, AclOperation strata) {
        STRATA.put(new Form(type, kafka), strata);
        KAFKA.put(new Strata(type, strata), kafka);
    }

    static {
        for (ResourceType type : ResourceType.values()) {
            pair(type, org.apache.kafka.common.acl.AclOperation.ALL, AclOperation.ADMIN);
            pair(type, org.apache.kafka.common.acl.AclOperation.DESCRIBE, AclOperation.DESCRIBE);
        }
        pair(ResourceType.TOPIC, org.apache.kafka.common.acl.AclOperation.READ, AclOperation.CONSUME);
        pair(ResourceType.TOPIC, org.apache.kafka.common.acl.AclOperation.WRITE, AclOperation.PRODUCE);
        pair(ResourceType.TOPIC, org.apache.kafka.common.acl.AclOperation.CREATE, AclOperation.CREATE);
        pair(ResourceType.TOPIC, org.apache.kafka.common.acl.AclOperation.DELETE, AclOperation.DELETE);
        pair(ResourceType.TOPIC, org.apache.kafka.common.acl.AclOperation.ALTER, AclOperation.ALTER);
        pair(ResourceType.GROUP, org.apache.kafka.common.acl.AclOperation.READ, AclOperation.CONSUME);
        pair(ResourceType.GROUP, org.apache.kafka.common.acl.AclOperation.DELETE, AclOperation.DELETE);
        pair(ResourceType.TRANSACTIONAL_ID, org.apache.kafka.common.acl.AclOperation.WRITE, AclOperation.PRODUCE);
        // CREATE on the cluster creates any topic, in Kafka as in Strata.
        pair(ResourceType.CLUSTER, org.apache.kafka.common.acl.AclOperation.CREATE, AclOperation.CREATE);
    }

    private static String hint(ResourceType type, org.apache.kafka.common.acl.AclOperation kafka) {
        return switch (kafka) {
            case IDEMPOTENT_WRITE -> " (idempotent producers need no ACL of their own in Strata)";
            case DESCRIBE_CONFIGS -> " (Describe lets a principal see a resource and its configs)";
            case ALTER_CONFIGS -> type == ResourceType.CLUSTER
                    ? " (Strata's cluster has no configs of its own; its administrators hold ALL)"
                    : " (Alter changes a resource and its configs)";
            case ALTER -> type == ResourceType.CLUSTER ? " (its administrators hold ALL, which is everything in "
                    + "Strata: users, ACLs, every topic and group)" : type == ResourceType.GROUP
                    ? " (Kafka gives it no meaning; Strata's alter-group, for OffsetDelete and gRPC resets, comes with ALL "
                    + "on the group or from strata acls)" : "";
            default -> "";
        };
    }
}
