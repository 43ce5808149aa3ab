package io.strata.security;

import static io.strata.metadata.security.AclOperation.ADMIN;
import static io.strata.metadata.security.AclOperation.CONSUME;
import static io.strata.metadata.security.AclOperation.CREATE;
import static io.strata.metadata.security.AclOperation.DELETE;
import static io.strata.metadata.security.AclOperation.DESCRIBE;
import static io.strata.metadata.security.AclOperation.PRODUCE;
import static io.strata.metadata.security.ResourceType.CLUSTER;
import static io.strata.metadata.security.ResourceType.GROUP;
import static io.strata.metadata.security.ResourceType.TOPIC;
import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.security.Acl;
import io.strata.metadata.security.AclOperation;
import io.strata.metadata.security.ResourceType;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AccessPolicyTest {
    private static final Identity ALICE = Identity.user("alice", List.of(), "password");
    private static final Identity BOB = Identity.user("bob", List.of("ops"), "password");
    private static final Identity ROOT = Identity.user("root", List.of(), "password");

    private static Acl allow(String principal, AclOperation op, ResourceType type, String name, boolean prefixed) {
        return new Acl(principal, type, name, prefixed, op, false);
    }

    private static Acl deny(String principal, AclOperation op, ResourceType type, String name, boolean prefixed) {
        return new Acl(principal, type, name, prefixed, op, true);
    }

    @Test
    void withoutRulesOnlySuperUsersMayDoAnything() {
        AccessPolicy p = new AccessPolicy(List.of(), Set.of("User:root"));
        assertThat(p.allowed(ALICE, DESCRIBE, TOPIC, "logs")).isFalse();
        assertThat(p.allowed(ALICE, ADMIN, CLUSTER, "")).isFalse();
        assertThat(p.allowed(ROOT, DELETE, TOPIC, "logs")).isTrue();
        assertThat(p.allowed(ROOT, ADMIN, CLUSTER, "")).isTrue();
    }

    @Test
    void aPrefixRuleCoversTheTopicsItNamesAndNoOthers() {
        AccessPolicy p = new AccessPolicy(List.of(allow("User:alice", PRODUCE, TOPIC, "logs-", true)), Set.of());
        assertThat(p.allowed(ALICE, PRODUCE, TOPIC, "logs-web")).isTrue();
        assertThat(p.allowed(ALICE, DESCRIBE, TOPIC, "logs-web")).isTrue(); // what one may use, one may see
        assertThat(p.allowed(ALICE, CONSUME, TOPIC, "logs-web")).isFalse();
        assertThat(p.allowed(ALICE, PRODUCE, TOPIC, "metrics")).isFalse();
        assertThat(p.allowed(ALICE, PRODUCE, GROUP, "logs-web")).isFalse();
        assertThat(p.allowed(BOB, PRODUCE, TOPIC, "logs-web")).isFalse();
    }

    @Test
    void aDenyWinsOverEveryAllow() {
        AccessPolicy p = new AccessPolicy(List.of(allow("User:*", PRODUCE, TOPIC, "", true),
                allow("User:alice", ADMIN, TOPIC, "logs-", true), deny("User:alice", PRODUCE, TOPIC, "logs-secret", false)),
                Set.of());
        assertThat(p.allowed(ALICE, PRODUCE, TOPIC, "logs-secret")).isFalse();
        assertThat(p.allowed(ALICE, DELETE, TOPIC, "logs-secret")).isTrue();
        assertThat(p.allowed(ALICE, PRODUCE, TOPIC, "logs-web")).isTrue();
        assertThat(p.allowed(BOB, PRODUCE, TOPIC, "logs-secret")).isTrue(); // User:* reaches every user
    }

    @Test
    void aDenyOnTheClusterReachesAsFarAsTheSameAllow() {
        AccessPolicy p = new AccessPolicy(List.of(allow("Group:ops", ADMIN, CLUSTER, "", false),
                deny("User:bob", ADMIN, CLUSTER, "", false), allow("User:alice", CREATE, TOPIC, "", true),
                deny("User:alice", CREATE, CLUSTER, "", false)), Set.of());
        assertThat(p.allowed(BOB, DELETE, TOPIC, "logs")).isFalse();
        assertThat(p.allowed(BOB, CONSUME, GROUP, "g")).isFalse();
        assertThat(p.allowed(Identity.user("carol", List.of("ops"), "password"), DELETE, TOPIC, "logs")).isTrue();
        assertThat(p.allowed(ALICE, CREATE, TOPIC, "anything")).isFalse();
        assertThat(p.allowed(Identity.UNKNOWN, DESCRIBE, TOPIC, "logs")).isFalse();
    }

    @Test
    void groupRulesApplyToTheGroupsMembers() {
        AccessPolicy p = new AccessPolicy(List.of(allow("Group:ops", CONSUME, GROUP, "indexer", false),
                deny("Group:ops", ADMIN, TOPIC, "audit", false)), Set.of());
        assertThat(p.allowed(BOB, CONSUME, GROUP, "indexer")).isTrue();
        assertThat(p.allowed(ALICE, CONSUME, GROUP, "indexer")).isFalse();
        assertThat(p.allowed(BOB, DESCRIBE, TOPIC, "audit")).isFalse();
    }

    @Test
    void clusterRulesReachEveryResourceOnlyForAdminAndTopicCreation() {
        AccessPolicy p = new AccessPolicy(List.of(allow("User:alice", CREATE, CLUSTER, "", false),
                allow("User:bob", ADMIN, CLUSTER, "", false)), Set.of());
        assertThat(p.allowed(ALICE, CREATE, TOPIC, "anything")).isTrue();
        assertThat(p.allowed(ALICE, PRODUCE, TOPIC, "anything")).isFalse();
        assertThat(p.allowed(ALICE, CREATE, CLUSTER, "")).isTrue();
        assertThat(p.allowed(BOB, DELETE, GROUP, "g")).isTrue();
        assertThat(p.allowed(BOB, ADMIN, CLUSTER, "")).isTrue();
    }
}
