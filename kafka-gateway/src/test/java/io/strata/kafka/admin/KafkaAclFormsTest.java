package io.strata.kafka.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.metadata.security.Acl;
import io.strata.metadata.security.AclOperation;
import io.strata.metadata.security.ResourceType;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import java.util.List;
import org.junit.jupiter.api.Test;

class KafkaAclFormsTest {
    private static AclBinding kafka(org.apache.kafka.common.resource.ResourceType type, String name, PatternType pattern,
                                    org.apache.kafka.common.acl.AclOperation op, String host, AclPermissionType permission) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry("User:alice", host, op, permission));
    }

    @Test
    void kafkasRulesBecomeStratasAndComeBackTheSameWhereBothHaveTheOperation() {
        var topic = org.apache.kafka.common.resource.ResourceType.TOPIC;
        var group = org.apache.kafka.common.resource.ResourceType.GROUP;
        var cluster = org.apache.kafka.common.resource.ResourceType.CLUSTER;
        var txn = org.apache.kafka.common.resource.ResourceType.TRANSACTIONAL_ID;
        Object[][] cases = {
                {kafka(topic, "logs", PatternType.LITERAL, org.apache.kafka.common.acl.AclOperation.READ, "*", AclPermissionType.ALLOW),
                        new Acl("User:alice", ResourceType.TOPIC, "logs", false, AclOperation.CONSUME, false)},
                {kafka(topic, "logs-", PatternType.PREFIXED, org.apache.kafka.common.acl.AclOperation.WRITE, "*", AclPermissionType.DENY),
                        new Acl("User:alice", ResourceType.TOPIC, "logs-", true, AclOperation.PRODUCE, true)},
                {kafka(topic, "*", PatternType.LITERAL, org.apache.kafka.common.acl.AclOperation.CREATE, "*", AclPermissionType.ALLOW),
                        new Acl("User:alice", ResourceType.TOPIC, "", true, AclOperation.CREATE, false)},
                {kafka(group, "*", PatternType.LITERAL, org.apache.kafka.common.acl.AclOperation.READ, "*", AclPermissionType.DENY),
                        new Acl("User:alice", ResourceType.GROUP, "", true, AclOperation.CONSUME, true)},
                {kafka(cluster, "kafka-cluster", PatternType.LITERAL, org.apache.kafka.common.acl.AclOperation.ALL, "*",
                        AclPermissionType.ALLOW), new Acl("User:alice", ResourceType.CLUSTER, "", false, AclOperation.ADMIN, false)},
                {kafka(cluster, "kafka-cluster", PatternType.LITERAL, org.apache.kafka.common.acl.AclOperation.CREATE, "*",
                        AclPermissionType.ALLOW), new Acl("User:alice", ResourceType.CLUSTER, "", false, AclOperation.CREATE, false)},
                {kafka(txn, "app-", PatternType.PREFIXED, org.apache.kafka.common.acl.AclOperation.WRITE, "*", AclPermissionType.ALLOW),
                        new Acl("User:alice", ResourceType.TRANSACTIONAL_ID, "app-", true, AclOperation.PRODUCE, false)},
        };
        for (Object[] c : cases) {
            AclBinding binding = (AclBinding) c[0];
            assertThat(KafkaAclForms.toStrata(binding)).as("%s", binding).isEqualTo(c[1]);
            assertThat(KafkaAclForms.toKafka((Acl) c[1])).as("%s back", binding).contains(binding);
        }
        assertThat(KafkaAclForms.toKafka(new Acl("User:alice", ResourceType.CLUSTER, "", false, AclOperation.PRODUCE,
                false))).as("no Kafka words: left out of Kafka's lists, never UNKNOWN").isEmpty();
    }

    @Test
    void everyKafkaRuleEitherComesBackAsItWasMadeOrIsRefused() {
        int held = 0;
        for (var type : List.of(org.apache.kafka.common.resource.ResourceType.TOPIC,
                org.apache.kafka.common.resource.ResourceType.GROUP, org.apache.kafka.common.resource.ResourceType.CLUSTER,
                org.apache.kafka.common.resource.ResourceType.TRANSACTIONAL_ID)) {
            String name = type == org.apache.kafka.common.resource.ResourceType.CLUSTER ? "kafka-cluster" : "x";
            for (var op : org.apache.kafka.common.acl.AclOperation.values()) {
                if (op == org.apache.kafka.common.acl.AclOperation.ANY || op == org.apache.kafka.common.acl.AclOperation.UNKNOWN) {
                    continue;
                }
                for (var permission : List.of(AclPermissionType.ALLOW, AclPermissionType.DENY)) {
                    AclBinding binding = kafka(type, name, PatternType.LITERAL, op, "*", permission);
                    Acl acl;
                    try {
                        acl = KafkaAclForms.toStrata(binding);
                    } catch (IllegalArgumentException refused) {
                        continue;
                    }
                    held++;
                    assertThat(KafkaAclForms.toKafka(acl)).as("%s", binding).contains(binding);
                }
            }
        }
        assertThat(held).as("rules held both ways").isEqualTo(32);
    }

    @Test
    void rulesStrataCannotHoldAreRefusedSayingWhy() {
        var topic = org.apache.kafka.common.resource.ResourceType.TOPIC;
        assertThatThrownBy(() -> KafkaAclForms.toStrata(kafka(topic, "logs", PatternType.LITERAL,
                org.apache.kafka.common.acl.AclOperation.READ, "10.0.0.1", AclPermissionType.ALLOW)))
                .hasMessageContaining("do not name hosts");
        assertThatThrownBy(() -> KafkaAclForms.toStrata(kafka(org.apache.kafka.common.resource.ResourceType.CLUSTER,
                "kafka-cluster", PatternType.LITERAL, org.apache.kafka.common.acl.AclOperation.IDEMPOTENT_WRITE, "*",
                AclPermissionType.ALLOW))).hasMessageContaining("idempotent producers need no ACL");
        assertThatThrownBy(() -> KafkaAclForms.toStrata(kafka(org.apache.kafka.common.resource.ResourceType.CLUSTER,
                "kafka-cluster", PatternType.LITERAL, org.apache.kafka.common.acl.AclOperation.ALTER_CONFIGS, "*",
                AclPermissionType.ALLOW))).as("less than admin in Kafka: not made admin").hasMessageContaining("no configs");
        assertThatThrownBy(() -> KafkaAclForms.toStrata(kafka(org.apache.kafka.common.resource.ResourceType.CLUSTER,
                "kafka-cluster", PatternType.LITERAL, org.apache.kafka.common.acl.AclOperation.ALTER, "*",
                AclPermissionType.ALLOW))).as("ask for ALL, knowing what it is").hasMessageContaining("hold ALL");
        assertThatThrownBy(() -> KafkaAclForms.toStrata(kafka(topic, "logs", PatternType.LITERAL,
                org.apache.kafka.common.acl.AclOperation.DESCRIBE_CONFIGS, "*", AclPermissionType.ALLOW)))
                .as("Strata's describe gives more").hasMessageContaining("no operation for DESCRIBE_CONFIGS");
        assertThatThrownBy(() -> KafkaAclForms.toStrata(kafka(org.apache.kafka.common.resource.ResourceType.CLUSTER,
                "kafka-cluster", PatternType.LITERAL, org.apache.kafka.common.acl.AclOperation.ALL, "*",
                AclPermissionType.DENY))).as("Strata's would deny every topic and group")
                .hasMessageContaining("deny it on every topic");
        assertThatThrownBy(() -> KafkaAclForms.toStrata(kafka(org.apache.kafka.common.resource.ResourceType.CLUSTER,
                "kafka-cluster", PatternType.LITERAL, org.apache.kafka.common.acl.AclOperation.CREATE, "*",
                AclPermissionType.DENY))).as("Kafka's would leave topic CREATE rules in force").hasMessageContaining("every topic");
        assertThatThrownBy(() -> KafkaAclForms.toStrata(kafka(topic, "", PatternType.PREFIXED,
                org.apache.kafka.common.acl.AclOperation.READ, "*", AclPermissionType.ALLOW))).hasMessageContaining("literal '*'");
        assertThatThrownBy(() -> KafkaAclForms.toStrata(kafka(org.apache.kafka.common.resource.ResourceType.DELEGATION_TOKEN,
                "t", PatternType.LITERAL, org.apache.kafka.common.acl.AclOperation.READ, "*", AclPermissionType.ALLOW)))
                .hasMessageContaining("no DELEGATION_TOKEN resources");
        assertThatThrownBy(() -> KafkaAclForms.toStrata(kafka(org.apache.kafka.common.resource.ResourceType.CLUSTER,
                "other", PatternType.LITERAL, org.apache.kafka.common.acl.AclOperation.DESCRIBE, "*", AclPermissionType.ALLOW)))
                .hasMessageContaining("'kafka-cluster'");
        assertThatThrownBy(() -> KafkaAclForms.toStrata(kafka(topic, "bad/name", PatternType.LITERAL,
                org.apache.kafka.common.acl.AclOperation.READ, "*", AclPermissionType.ALLOW)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
