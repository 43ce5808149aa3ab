package io.strata.kafka.group;

import io.strata.metadata.group.TopicPartition;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the classic protocol's members send and are answered: consumer subscriptions and assignments, errors. */
final class ClassicMessages {
    private static final Logger LOG = LoggerFactory.getLogger(ClassicMessages.class);
    private static final byte[] EMPTY = new byte[0];

    private ClassicMessages() {
    }

    /** The topics a member subscribes to, when its protocol is the consumer's (others subscribe to none). */
    static List<String> topicsOf(String protocolType, Map<String, byte[]> protocols) {
        if (!ConsumerProtocol.PROTOCOL_TYPE.equals(protocolType) || protocols.isEmpty()) {
            return List.of();
        }
        try {
            return List.copyOf(new TreeSet<>(ConsumerProtocol.deserializeSubscription(
                    ByteBuffer.wrap(protocols.values().iterator().next())).topics()));
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    /** The partitions a consumer assignment names (none for other protocols, or one that does not parse). */
    static Set<TopicPartition> partitionsOf(String protocolType, byte[] assignment) {
        Set<TopicPartition> out = new TreeSet<>();
        if (!ConsumerProtocol.PROTOCOL_TYPE.equals(protocolType) || assignment == null || assignment.length == 0) {
            return out;
        }
        try {
            ConsumerProtocol.deserializeAssignment(ByteBuffer.wrap(assignment)).partitions()
                    .forEach(tp -> out.add(new TopicPartition(tp.topic(), tp.partition())));
        } catch (RuntimeException e) {
            LOG.debug("an assignment that is no consumer assignment: {}", e.toString());
        }
        return out;
    }

    static SyncGroupResponseData syncOk(ClassicGroup g, byte[] assignment) {
        return new SyncGroupResponseData().setErrorCode(Errors.NONE.code()).setProtocolType(g.protocolType)
                .setProtocolName(g.protocolName).setAssignment(assignment);
    }

    static SyncGroupResponseData syncError(Errors error) {
        return new SyncGroupResponseData().setErrorCode(error.code()).setAssignment(EMPTY);
    }

    static JoinGroupResponseData joinError(Errors error, String memberId) {
        return new JoinGroupResponseData().setErrorCode(error.code()).setGenerationId(-1)
                .setMemberId(memberId == null ? "" : memberId).setLeader("").setProtocolName("").setProtocolType("");
    }
}
