package io.strata.kafka.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.junit.jupiter.api.Test;

class KafkaAccessTest {
    @Test
    void aLeadersSyncGroupNeedsToReadEveryTopicItAssigns() {
        SyncGroupRequestData sync = new SyncGroupRequestData().setGroupId("g").setProtocolType("consumer");
        sync.assignments().add(assignment("m1", new TopicPartition("orders", 0), new TopicPartition("payroll", 3)));
        sync.assignments().add(assignment("m2", new TopicPartition("orders", 1)));
        sync.assignments().add(new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId("m3")
                .setAssignment(new byte[] {1, 2, 3})); // not a consumer assignment: names nothing
        assertThat(KafkaAccess.assignedTopics(sync)).containsExactly("orders", "payroll");
        assertThat(KafkaAccess.assignedTopics(sync.setProtocolType("connect"))).as("another protocol's bytes")
                .isEmpty();
    }

    @Test
    void aDescribedTransactionTheCallerMayNotDescribeIsRefusedAloneAndItsHiddenTopicsAreLeftOut() {
        var answer = new org.apache.kafka.common.message.DescribeTransactionsResponseData();
        var open = new org.apache.kafka.common.message.DescribeTransactionsResponseData.TransactionState()
                .setTransactionalId("etl").setTransactionState("Ongoing").setProducerId(7);
        open.topics().add(new org.apache.kafka.common.message.DescribeTransactionsResponseData.TopicData()
                .setTopic("orders").setPartitions(List.of(0)));
        open.topics().add(new org.apache.kafka.common.message.DescribeTransactionsResponseData.TopicData()
                .setTopic("payroll").setPartitions(List.of(1)));
        answer.transactionStates().add(open);
        answer.transactionStates().add(new org.apache.kafka.common.message.DescribeTransactionsResponseData
                .TransactionState().setTransactionalId("hidden").setTransactionState("Ongoing").setProducerId(8));
        java.util.function.Predicate<io.strata.security.Need> may =
                n -> !n.name().equals("payroll") && !n.name().equals("hidden");

        assertThat(KafkaAccess.cutTransactions(answer, may)).containsExactly(io.strata.security.Need.transactionalId(
                io.strata.metadata.security.AclOperation.DESCRIBE, "hidden"));
        assertThat(answer.transactionStates().get(0).topics()).extracting(t -> t.topic()).containsExactly("orders");
        var refused = answer.transactionStates().get(1);
        assertThat(refused.errorCode()).isEqualTo(org.apache.kafka.common.protocol.Errors
                .TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
        assertThat(refused.producerId()).as("nothing of it told").isEqualTo(-1);
        assertThat(refused.transactionState()).isEmpty();
    }

    @Test
    void aFindCoordinatorOfSeveralKeysRefusesEachKeyTheCallerMayNotDescribeAlone() {
        var answer = new org.apache.kafka.common.message.FindCoordinatorResponseData();
        answer.coordinators().add(new org.apache.kafka.common.message.FindCoordinatorResponseData.Coordinator()
                .setKey("mine").setNodeId(3).setHost("h").setPort(9092));
        answer.coordinators().add(new org.apache.kafka.common.message.FindCoordinatorResponseData.Coordinator()
                .setKey("theirs").setNodeId(3).setHost("h").setPort(9092));
        java.util.function.Predicate<io.strata.security.Need> may = n -> n.name().equals("mine");

        assertThat(KafkaAccess.cutCoordinators(answer, (byte) 1, may)).extracting(n -> n.type() + " " + n.name())
                .containsExactly("TRANSACTIONAL_ID theirs");
        assertThat(answer.coordinators().get(0).nodeId()).isEqualTo(3);
        assertThat(answer.coordinators().get(1).errorCode()).isEqualTo(org.apache.kafka.common.protocol.Errors
                .TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
        assertThat(answer.coordinators().get(1).host()).isEmpty();
        assertThat(KafkaAccess.cutCoordinators(answer.duplicate(), (byte) 0, n -> false)).hasSize(2);
    }

    @Test
    void aCommitOutsideAGroupGenerationIsAuditedAsAResetAndAMembersCommitIsNot() {
        // As the admin client's alterConsumerGroupOffsets (kafka-consumer-groups --reset-offsets) builds it.
        var reset = new org.apache.kafka.common.message.OffsetCommitRequestData().setGroupId("g");
        assertThat(KafkaAccess.outsideGeneration(reset)).isTrue();
        assertThat(KafkaAccess.outsideGeneration(reset.duplicate().setGenerationIdOrMemberEpoch(4).setMemberId("m-1")))
                .as("a classic group member's commit").isFalse();
        assertThat(KafkaAccess.outsideGeneration(reset.duplicate().setGenerationIdOrMemberEpoch(-1).setMemberId("m-1")))
                .as("a member's commit with a stale generation: refused by the coordinator, not a reset").isFalse();
    }

    @Test
    void aResetIsAuditedOnceAConnectionWithEachTopicsOwnOutcomeAndAMembersCommitIsNot() {
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        KafkaAccess access = new KafkaAccess(recording(lines), null);
        var alice = io.strata.security.Identity.user("alice", List.of(), "password");
        var tool = new io.strata.kafka.KafkaSession(new java.net.InetSocketAddress("10.0.0.7", 50_000), alice);
        var reset = new org.apache.kafka.common.message.OffsetCommitRequestData().setGroupId("g");
        for (String topic : List.of("orders", "gone")) {
            reset.topics().add(new org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic()
                    .setName(topic).setPartitions(List.of(new org.apache.kafka.common.message.OffsetCommitRequestData
                            .OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(0))));
        }
        var answer = new org.apache.kafka.common.message.OffsetCommitResponseData();
        answer.topics().add(answered("orders", org.apache.kafka.common.protocol.Errors.NONE));
        answer.topics().add(answered("gone", org.apache.kafka.common.protocol.Errors.UNKNOWN_TOPIC_OR_PARTITION));

        var member = request(reset.duplicate().setGenerationIdOrMemberEpoch(3).setMemberId("m-1"), tool);
        assertThat(access.audits(member)).as("a member's commit").isFalse();
        assertThat(access.audits(request(reset, tool))).isTrue();
        access.audit(request(reset, tool), answer, null);
        assertThat(lines).containsExactly(
                "User:alice 10.0.0.7:50000 Kafka OffsetCommit group 'g' failed: UNKNOWN_TOPIC_OR_PARTITION",
                "User:alice 10.0.0.7:50000 Kafka OffsetCommit topic 'orders' ok",
                "User:alice 10.0.0.7:50000 Kafka OffsetCommit topic 'gone' failed: UNKNOWN_TOPIC_OR_PARTITION");

        access.audit(request(reset, tool), answer, null);
        assertThat(lines).as("the same commit again on the connection (an assigned consumer's auto-commit)").hasSize(3);
        var elsewhere = reset.duplicate();
        elsewhere.topics().get(0).partitions().get(0).setCommittedOffset(42);
        access.audit(request(elsewhere, tool), answer, null);
        assertThat(lines).as("another reset on the same connection").hasSize(6);
        access.audit(request(reset, new io.strata.kafka.KafkaSession(
                new java.net.InetSocketAddress("10.0.0.7", 50_001), alice)), answer, null);
        assertThat(lines).as("a reset from a new connection").hasSize(9);
    }

    private static org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic answered(
            String topic, org.apache.kafka.common.protocol.Errors error) {
        return new org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic().setName(topic)
                .setPartitions(List.of(new org.apache.kafka.common.message.OffsetCommitResponseData
                        .OffsetCommitResponsePartition().setPartitionIndex(0).setErrorCode(error.code())));
    }

    private static io.strata.kafka.KafkaRequest request(org.apache.kafka.common.message.OffsetCommitRequestData data,
                                                        io.strata.kafka.KafkaSession session) {
        short version = 9;
        return new io.strata.kafka.KafkaRequest(new org.apache.kafka.common.requests.RequestHeader(
                org.apache.kafka.common.protocol.ApiKeys.OFFSET_COMMIT, version, "tool", 1),
                new org.apache.kafka.common.requests.OffsetCommitRequest(data, version), session);
    }

    /** The open guard, but every audit line kept as "principal address action resource outcome". */
    private static KafkaGuard recording(List<String> lines) {
        KafkaGuard open = KafkaGuard.OPEN;
        return new KafkaGuard() {
            @Override
            public boolean required() {
                return true;
            }

            @Override
            public List<String> mechanisms() {
                return open.mechanisms();
            }

            @Override
            public javax.security.sasl.SaslServer saslServer(String mechanism) throws javax.security.sasl.SaslException {
                return open.saslServer(mechanism);
            }

            @Override
            public io.strata.security.Identity user(String name, String mechanism) {
                return open.user(name, mechanism);
            }

            @Override
            public io.strata.security.Identity fromCertificate(javax.net.ssl.SSLSession session) {
                return null;
            }

            @Override
            public boolean allowed(io.strata.security.Identity who, io.strata.metadata.security.AclOperation op,
                                   io.strata.metadata.security.ResourceType type, String name) {
                return true;
            }

            @Override
            public void audit(io.strata.security.Identity who, String address, String action, String resource,
                              String outcome) {
                lines.add(who.principal() + " " + address + " " + action + " " + resource + " " + outcome);
            }

            @Override
            public java.util.concurrent.Executor slowWork() {
                return Runnable::run;
            }
        };
    }

    private static SyncGroupRequestData.SyncGroupRequestAssignment assignment(String member, TopicPartition... ps) {
        ByteBuffer b = ConsumerProtocol.serializeAssignment(new ConsumerPartitionAssignor.Assignment(List.of(ps)));
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId(member).setAssignment(bytes);
    }
}
