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

    private static SyncGroupRequestData.SyncGroupRequestAssignment assignment(String member, TopicPartition... ps) {
        ByteBuffer b = ConsumerProtocol.serializeAssignment(new ConsumerPartitionAssignor.Assignment(List.of(ps)));
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId(member).setAssignment(bytes);
    }
}
