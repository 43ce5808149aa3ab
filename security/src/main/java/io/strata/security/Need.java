package io.strata.security;

import io.strata.metadata.InputText;
import io.strata.metadata.security.AclOperation;
import io.strata.metadata.security.ResourceType;

/**
 * One permission a call needs: an operation on a resource ("" names the cluster). The gRPC services' rules and the
 * Kafka listener's name their needs alike.
 */
public record Need(AclOperation operation, ResourceType type, String name) {
    public static Need topic(AclOperation op, String name) {
        return new Need(op, ResourceType.TOPIC, name);
    }

    public static Need group(AclOperation op, String name) {
        return new Need(op, ResourceType.GROUP, name);
    }

    public static Need transactionalId(AclOperation op, String id) {
        return new Need(op, ResourceType.TRANSACTIONAL_ID, id);
    }

    public static Need cluster(AclOperation op) {
        return new Need(op, ResourceType.CLUSTER, "");
    }

    /** "topic 'logs'", "the cluster": for messages and audit lines (names bounded). */
    public String resource() {
        return type == ResourceType.CLUSTER ? "the cluster" : type.label() + " " + InputText.quoted(name);
    }
}
