package io.strata.metadata.codec;

import io.strata.metadata.group.CommittedOffset;
import io.strata.metadata.group.GroupMember;
import io.strata.metadata.group.GroupSettings;
import io.strata.metadata.group.OffsetCommit;
import io.strata.metadata.group.OffsetReset;
import io.strata.metadata.group.TargetAssignment;
import io.strata.metadata.group.TopicPartition;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Consumer groups' records to and from the protobuf values of {@code values.proto}. */
public final class GroupCodec {
    private GroupCodec() {
    }

    public static byte[] encodeGroup(long createdAtMs, long lastJoinAtMs) {
        return GroupValue.newBuilder().setCreatedAtMs(createdAtMs).setLastJoinAtMs(lastJoinAtMs).build().toByteArray();
    }

    public static long decodeGroupCreatedAt(String key, byte[] bytes) {
        return MetadataCodec.parse(key, bytes, b -> GroupValue.parseFrom(b).getCreatedAtMs());
    }

    public static byte[] encode(GroupMember m) {
        return MemberValue.newBuilder().setMemberId(m.memberId()).setClientId(m.clientId())
                .setClientAddress(m.clientAddress()).addAllTopics(m.topics()).setLeaseId(m.leaseId())
                .setSessionTimeoutMs(m.sessionTimeoutMs()).setOffsetReset(m.offsetReset().ordinal())
                .setJoinedAtMs(m.joinedAtMs()).setProtocol(m.protocol()).build().toByteArray();
    }

    public static GroupMember decodeMember(String key, byte[] bytes) {
        return MetadataCodec.parse(key, bytes, b -> {
            MemberValue v = MemberValue.parseFrom(b);
            OffsetReset[] resets = OffsetReset.values();
            if (v.getOffsetReset() < 0 || v.getOffsetReset() >= resets.length) {
                throw new IllegalArgumentException("unknown offset reset " + v.getOffsetReset());
            }
            return new GroupMember(v.getMemberId(), v.getClientId(), v.getClientAddress(), v.getTopicsList(),
                    v.getLeaseId(), v.getSessionTimeoutMs(), resets[v.getOffsetReset()], v.getJoinedAtMs(), 0,
                    v.getProtocol());
        });
    }

    public static byte[] encodeOwner(String memberId, long acquiredAtMs) {
        return OwnerValue.newBuilder().setMemberId(memberId).setAcquiredAtMs(acquiredAtMs).build().toByteArray();
    }

    public static String decodeOwner(String key, byte[] bytes) {
        return MetadataCodec.parse(key, bytes, b -> OwnerValue.parseFrom(b).getMemberId());
    }

    public static byte[] encode(TargetAssignment t, long computedAtMs) {
        TargetValue.Builder b = TargetValue.newBuilder().setGeneration(t.generation()).setComputedAtMs(computedAtMs);
        t.members().forEach((member, partitions) -> {
            MemberTargetValue.Builder m = MemberTargetValue.newBuilder().setMemberId(member);
            Map<String, List<Integer>> byTopic = new TreeMap<>();
            partitions.forEach(p -> byTopic.computeIfAbsent(p.topic(), x -> new ArrayList<>()).add(p.partition()));
            byTopic.forEach((topic, ps) -> m.addTopics(TopicPartitionsValue.newBuilder().setTopic(topic)
                    .addAllPartitions(ps)));
            b.addMembers(m);
        });
        return b.build().toByteArray();
    }

    public static TargetAssignment decodeTarget(String key, byte[] bytes) {
        return MetadataCodec.parse(key, bytes, b -> {
            TargetValue v = TargetValue.parseFrom(b);
            Map<String, List<TopicPartition>> members = new LinkedHashMap<>();
            for (MemberTargetValue m : v.getMembersList()) {
                List<TopicPartition> partitions = new ArrayList<>();
                for (TopicPartitionsValue t : m.getTopicsList()) {
                    t.getPartitionsList().forEach(p -> partitions.add(new TopicPartition(t.getTopic(), p)));
                }
                members.put(m.getMemberId(), partitions);
            }
            return new TargetAssignment(v.getGeneration(), members);
        });
    }

    public static byte[] encode(OffsetCommit c, long committedAtMs, String memberId) {
        return OffsetValue.newBuilder().setOffset(c.offset()).setMetadata(c.metadata()).setTopicId(c.topicId())
                .setCommittedAtMs(committedAtMs).setMemberId(memberId).build().toByteArray();
    }

    public static CommittedOffset decodeOffset(String key, TopicPartition partition, byte[] bytes) {
        return MetadataCodec.parse(key, bytes, b -> {
            OffsetValue v = OffsetValue.parseFrom(b);
            return new CommittedOffset(partition, v.getOffset(), v.getMetadata(), v.getTopicId(),
                    v.getCommittedAtMs(), v.getMemberId());
        });
    }

    public static byte[] encode(GroupSettings s) {
        GroupSettingsValue.Builder b = GroupSettingsValue.newBuilder().setDeadLetterTopic(s.deadLetterTopic())
                .setMaxDeliveryAttempts(s.maxDeliveryAttempts()).setLockMs(s.lockMs()).setNamedBy(s.namedBy())
                .addAllNamedByGroups(s.namedByGroups());
        s.backoff().ifPresent(o -> b.setHasBackoff(true).setBackoffInitialMs(o.initialMs())
                .setBackoffMultiplier(o.multiplier()).setBackoffMaxMs(o.maxMs()));
        return b.build().toByteArray();
    }

    public static GroupSettings decodeSettings(String key, byte[] bytes) {
        return MetadataCodec.parse(key, bytes, b -> {
            GroupSettingsValue v = GroupSettingsValue.parseFrom(b);
            return new GroupSettings(v.getDeadLetterTopic(), v.getMaxDeliveryAttempts(), v.getLockMs(),
                    v.getHasBackoff() ? java.util.Optional.of(new GroupSettings.Backoff(v.getBackoffInitialMs(),
                            v.getBackoffMultiplier(), v.getBackoffMaxMs())) : java.util.Optional.empty(),
                    v.getNamedBy(), v.getNamedByGroupsList());
        });
    }
}
