package io.strata.kafka.group;

import io.strata.group.GroupCoordinator;
import io.strata.group.GroupDescription;
import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.cluster.Broker;
import io.strata.kafka.cluster.Brokers;
import io.strata.metadata.group.CommittedOffset;
import io.strata.metadata.group.GroupNames;
import io.strata.metadata.group.TopicPartition;
import io.strata.metadata.group.UnknownGroupException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * The group APIs of Kafka's classic protocol. The protocol's own calls (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, OffsetCommit) go to the group's coordinator node ({@link ClassicGroups}); the rest read and change
 * the store through the group coordinator, so they answer for every group, Strata's own included: a Strata
 * group is listed, described (its members' partitions as consumer assignments) and its offsets fetched like a
 * Kafka one. Offered up to the versions before topic ids in OffsetCommit and OffsetFetch. Kafka's consumer
 * protocol (ConsumerGroupHeartbeat) is {@link ConsumerGroups}'; its members' commits go there.
 */
public final class GroupApis {
    private final ClassicGroups classic;
    private final ConsumerGroups consumers;
    private final GroupCoordinator groups;
    private final Brokers brokers;

    public GroupApis(ClassicGroups classic, ConsumerGroups consumers, Brokers brokers) {
        this.classic = classic;
        this.consumers = consumers;
        this.groups = classic.coordinator();
        this.brokers = brokers;
    }

    public List<KafkaApi> all() {
        return List.of(
                KafkaApi.of(ApiKeys.FIND_COORDINATOR, 0, ApiKeys.FIND_COORDINATOR.latestVersion(), this::findCoordinator),
                KafkaApi.of(ApiKeys.JOIN_GROUP, 0, ApiKeys.JOIN_GROUP.latestVersion(), this::joinGroup),
                KafkaApi.of(ApiKeys.SYNC_GROUP, 0, ApiKeys.SYNC_GROUP.latestVersion(), this::syncGroup),
                KafkaApi.of(ApiKeys.HEARTBEAT, 0, ApiKeys.HEARTBEAT.latestVersion(), this::heartbeat),
                KafkaApi.of(ApiKeys.LEAVE_GROUP, 0, ApiKeys.LEAVE_GROUP.latestVersion(), this::leaveGroup),
                KafkaApi.of(ApiKeys.CONSUMER_GROUP_HEARTBEAT, 0, 1, this::consumerGroupHeartbeat),
                KafkaApi.of(ApiKeys.OFFSET_COMMIT, 2, 9, this::offsetCommit),
                KafkaApi.of(ApiKeys.OFFSET_FETCH, 1, 9, this::offsetFetch),
                KafkaApi.of(ApiKeys.LIST_GROUPS, 0, ApiKeys.LIST_GROUPS.latestVersion(), this::listGroups),
                KafkaApi.of(ApiKeys.DESCRIBE_GROUPS, 0, ApiKeys.DESCRIBE_GROUPS.latestVersion(), this::describeGroups),
                KafkaApi.of(ApiKeys.DELETE_GROUPS, 0, ApiKeys.DELETE_GROUPS.latestVersion(), this::deleteGroups),
                KafkaApi.of(ApiKeys.OFFSET_DELETE, 0, ApiKeys.OFFSET_DELETE.latestVersion(), this::offsetDelete));
    }


    private boolean coordinates(String group) {
        Broker c = brokers.coordinator(group);
        return c != null && c.id() == brokers.self().id();
    }

    private static CompletableFuture<ApiMessage> done(ApiMessage message) {
        return CompletableFuture.completedFuture(message);
    }

    // ---- FindCoordinator

    private CompletableFuture<ApiMessage> findCoordinator(KafkaRequest request) {
        FindCoordinatorRequestData data = request.data();
        FindCoordinatorResponseData response = new FindCoordinatorResponseData();
        List<String> keys = request.version() >= 4 ? data.coordinatorKeys() : List.of(data.key());
        for (String key : keys) {
            FindCoordinatorResponseData.Coordinator c = new FindCoordinatorResponseData.Coordinator().setKey(key)
                    .setNodeId(-1).setHost("").setPort(-1).setErrorCode(Errors.NONE.code());
            // A transactional id's coordinator: any node answers for any id (the state is in the metadata store);
            // one chosen as a group's is, so a producer keeps talking to one node while it lives.
            boolean transactional = data.keyType() == 1;
            boolean valid = transactional ? io.strata.transactions.Transactions.validId(key) : GroupNames.validGroup(key);
            Broker b = (data.keyType() == 0 || transactional) && valid ? brokers.coordinator(key) : null;
            if (data.keyType() != 0 && !transactional) {
                c.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("group and transaction coordinators are served, not key type " + data.keyType());
            } else if (transactional && !valid) {
                c.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("invalid transactional id");
            } else if (b == null) {
                c.setErrorCode(valid ? Errors.COORDINATOR_NOT_AVAILABLE.code() : Errors.INVALID_GROUP_ID.code());
            } else {
                c.setNodeId(b.id()).setHost(b.host()).setPort(b.port());
            }
            response.coordinators().add(c);
        }
        if (request.version() < 4) {
            FindCoordinatorResponseData.Coordinator c = response.coordinators().get(0);
            response = new FindCoordinatorResponseData().setErrorCode(c.errorCode()).setErrorMessage(c.errorMessage())
                    .setNodeId(c.nodeId()).setHost(c.host()).setPort(c.port());
        }
        return done(response);
    }

    // ---- the protocol

    private CompletableFuture<ApiMessage> joinGroup(KafkaRequest request) {
        JoinGroupRequestData data = request.data();
        if (!GroupNames.validGroup(data.groupId())) {
            return done(ClassicMessages.joinError(Errors.INVALID_GROUP_ID, data.memberId()));
        }
        if (!coordinates(data.groupId())) {
            return done(ClassicMessages.joinError(Errors.NOT_COORDINATOR, data.memberId()));
        }
        String clientId = request.header().clientId() == null ? "" : request.header().clientId();
        String host = request.client() == null ? "" : "/" + request.client().getAddress().getHostAddress();
        return classic.join(data, request.version(), clientId, host).thenApply(r -> r);
    }

    private CompletableFuture<ApiMessage> syncGroup(KafkaRequest request) {
        SyncGroupRequestData data = request.data();
        if (!coordinates(data.groupId())) {
            return done(ClassicMessages.syncError(Errors.NOT_COORDINATOR));
        }
        return classic.sync(data).thenApply(r -> r);
    }

    private CompletableFuture<ApiMessage> heartbeat(KafkaRequest request) {
        HeartbeatRequestData data = request.data();
        if (!coordinates(data.groupId())) {
            return done(new HeartbeatResponseData().setErrorCode(Errors.NOT_COORDINATOR.code()));
        }
        return classic.heartbeat(data.groupId(), data.memberId(), data.generationId())
                .thenApply(e -> new HeartbeatResponseData().setErrorCode(e.code()));
    }

    private CompletableFuture<ApiMessage> leaveGroup(KafkaRequest request) {
        LeaveGroupRequestData data = request.data();
        if (!coordinates(data.groupId())) {
            return done(new LeaveGroupResponseData().setErrorCode(Errors.NOT_COORDINATOR.code()));
        }
        List<String> ids = new ArrayList<>();
        if (request.version() >= 3) {
            data.members().forEach(m -> ids.add(m.memberId()));
        } else {
            ids.add(data.memberId());
        }
        return classic.leave(data.groupId(), ids).thenApply(errors -> {
            LeaveGroupResponseData response = new LeaveGroupResponseData().setErrorCode(Errors.NONE.code());
            if (request.version() >= 3) {
                errors.forEach((id, e) -> response.members().add(new LeaveGroupResponseData.MemberResponse()
                        .setMemberId(id).setErrorCode(e.code())));
            } else {
                response.setErrorCode(errors.get(data.memberId()).code());
            }
            return response;
        });
    }

    private CompletableFuture<ApiMessage> consumerGroupHeartbeat(KafkaRequest request) {
        ConsumerGroupHeartbeatRequestData data = request.data();
        if (GroupNames.validGroup(data.groupId()) && !coordinates(data.groupId())) {
            return done(new ConsumerGroupHeartbeatResponseData().setErrorCode(Errors.NOT_COORDINATOR.code()));
        }
        String clientId = request.header().clientId() == null ? "" : request.header().clientId();
        String host = request.client() == null ? "" : "/" + request.client().getAddress().getHostAddress();
        return consumers.heartbeat(data, clientId, host).thenApply(r -> r);
    }

    // ---- offsets

    private CompletableFuture<ApiMessage> offsetCommit(KafkaRequest request) {
        OffsetCommitRequestData data = request.data();
        List<GroupCoordinator.CommitRequest> offsets = new ArrayList<>();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic t : data.topics()) {
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                offsets.add(new GroupCoordinator.CommitRequest(new TopicPartition(t.name(), p.partitionIndex()),
                        p.committedOffset(), p.committedMetadata()));
            }
        }
        CompletableFuture<Map<TopicPartition, Errors>> outcome;
        if (!GroupNames.validGroup(data.groupId())) {
            outcome = CompletableFuture.completedFuture(GroupCommits.all(offsets, Errors.INVALID_GROUP_ID));
        } else if (!coordinates(data.groupId())) {
            outcome = CompletableFuture.completedFuture(GroupCommits.all(offsets, Errors.NOT_COORDINATOR));
        } else if (data.generationIdOrMemberEpoch() < 0 && (data.memberId() == null || data.memberId().isEmpty())) {
            // A consumer that assigns its partitions itself: allowed while the group has no members, as in Kafka.
            outcome = classic.membership().commitWithoutMembers(data.groupId(), offsets)
                    .handle((v, e) -> GroupCommits.all(offsets, e == null ? Errors.NONE : GroupErrors.forCommit(e)));
        } else if (consumers.serves(data.groupId(), data.memberId())) {
            outcome = consumers.commit(data.groupId(), data.memberId(), data.generationIdOrMemberEpoch(), offsets);
        } else {
            Errors allowed = classic.mayCommit(data.groupId(), data.memberId(), data.generationIdOrMemberEpoch());
            if (allowed == Errors.UNKNOWN_MEMBER_ID) {
                outcome = consumers.commitIfMember(data.groupId(), data.memberId(), data.generationIdOrMemberEpoch(),
                        offsets).thenCompose(done -> done.isPresent() ? CompletableFuture.completedFuture(done.get())
                        : classic.unknownHere(data.groupId(), data.memberId()).thenApply(e -> GroupCommits.all(offsets, e)));
            } else {
                outcome = allowed != Errors.NONE ? CompletableFuture.completedFuture(GroupCommits.all(offsets, allowed))
                        : classic.commit(data.groupId(), data.memberId(), offsets);
            }
        }
        return outcome.thenApply(errors -> {
            OffsetCommitResponseData response = new OffsetCommitResponseData();
            for (OffsetCommitRequestData.OffsetCommitRequestTopic t : data.topics()) {
                OffsetCommitResponseData.OffsetCommitResponseTopic topic = new OffsetCommitResponseData
                        .OffsetCommitResponseTopic().setName(t.name());
                for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                    Errors e = errors.getOrDefault(new TopicPartition(t.name(), p.partitionIndex()), Errors.NONE);
                    topic.partitions().add(new OffsetCommitResponseData.OffsetCommitResponsePartition()
                            .setPartitionIndex(p.partitionIndex()).setErrorCode(e.code()));
                }
                response.topics().add(topic);
            }
            return response;
        });
    }


    /** A group's committed offsets; none for a group that does not exist. */
    private CompletableFuture<Map<TopicPartition, CommittedOffset>> committed(String group) {
        if (!GroupNames.validGroup(group)) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("invalid group id"));
        }
        return groups.committed(group, Optional.empty()).exceptionallyCompose(e ->
                KafkaErrors.unwrap(e) instanceof UnknownGroupException ? CompletableFuture.completedFuture(Map.of())
                        : CompletableFuture.failedFuture(e));
    }

    private CompletableFuture<ApiMessage> offsetFetch(KafkaRequest request) {
        OffsetFetchRequestData data = request.data();
        if (request.version() < 8) {
            return committed(data.groupId()).handle((found, e) -> {
                OffsetFetchResponseData response = new OffsetFetchResponseData().setErrorCode(Errors.NONE.code());
                if (e != null) {
                    return response.setErrorCode(GroupErrors.forGroup(e).code());
                }
                Map<String, List<Integer>> asked = null;
                if (data.topics() != null) {
                    asked = new LinkedHashMap<>();
                    for (OffsetFetchRequestData.OffsetFetchRequestTopic t : data.topics()) {
                        asked.put(t.name(), t.partitionIndexes());
                    }
                }
                forEachAnswer(found, asked, (topic, partitions) -> {
                    OffsetFetchResponseData.OffsetFetchResponseTopic out = new OffsetFetchResponseData
                            .OffsetFetchResponseTopic().setName(topic);
                    partitions.forEach((p, c) -> out.partitions().add(new OffsetFetchResponseData
                            .OffsetFetchResponsePartition().setPartitionIndex(p).setCommittedOffset(c == null ? -1 : c.offset())
                            .setCommittedLeaderEpoch(-1).setMetadata(c == null ? "" : c.metadata())
                            .setErrorCode(Errors.NONE.code())));
                    response.topics().add(out);
                });
                return response;
            });
        }
        OffsetFetchResponseData response = new OffsetFetchResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (OffsetFetchRequestData.OffsetFetchRequestGroup g : data.groups()) {
            OffsetFetchResponseData.OffsetFetchResponseGroup out = new OffsetFetchResponseData.OffsetFetchResponseGroup()
                    .setGroupId(g.groupId()).setErrorCode(Errors.NONE.code());
            response.groups().add(out);
            all.add(committed(g.groupId()).handle((found, e) -> {
                if (e != null) {
                    out.setErrorCode(GroupErrors.forGroup(e).code());
                    return null;
                }
                Map<String, List<Integer>> asked = null;
                if (g.topics() != null) {
                    asked = new LinkedHashMap<>();
                    for (OffsetFetchRequestData.OffsetFetchRequestTopics t : g.topics()) {
                        asked.put(t.name(), t.partitionIndexes());
                    }
                }
                forEachAnswer(found, asked, (topic, partitions) -> {
                    OffsetFetchResponseData.OffsetFetchResponseTopics t = new OffsetFetchResponseData
                            .OffsetFetchResponseTopics().setName(topic);
                    partitions.forEach((p, c) -> t.partitions().add(new OffsetFetchResponseData
                            .OffsetFetchResponsePartitions().setPartitionIndex(p).setCommittedOffset(c == null ? -1 : c.offset())
                            .setCommittedLeaderEpoch(-1).setMetadata(c == null ? "" : c.metadata())
                            .setErrorCode(Errors.NONE.code())));
                    out.topics().add(t);
                });
                return null;
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    /** The answer per topic: the partitions asked for (null: every committed one), each with its commit or null. */
    private static void forEachAnswer(Map<TopicPartition, CommittedOffset> found, Map<String, List<Integer>> asked,
                                      java.util.function.BiConsumer<String, Map<Integer, CommittedOffset>> out) {
        Map<String, Map<Integer, CommittedOffset>> byTopic = new LinkedHashMap<>();
        if (asked == null) {
            found.forEach((p, c) -> byTopic.computeIfAbsent(p.topic(), k -> new java.util.TreeMap<>()).put(p.partition(), c));
        } else {
            asked.forEach((topic, partitions) -> {
                Map<Integer, CommittedOffset> m = byTopic.computeIfAbsent(topic, k -> new LinkedHashMap<>());
                partitions.forEach(p -> m.put(p, found.get(new TopicPartition(topic, p))));
            });
        }
        byTopic.forEach(out);
    }

    // ---- administration

    private static String kafkaState(GroupDescription.State state) {
        return switch (state) {
            case EMPTY -> "Empty";
            case STABLE -> "Stable";
            case REBALANCING -> "PreparingRebalance";
        };
    }

    private CompletableFuture<ApiMessage> listGroups(KafkaRequest request) {
        ListGroupsRequestData data = request.data();
        return groups.list().handle((list, e) -> {
            ListGroupsResponseData response = new ListGroupsResponseData().setErrorCode(Errors.NONE.code());
            if (e != null) {
                return response.setErrorCode(GroupErrors.forGroup(e).code());
            }
            for (GroupCoordinator.GroupListing g : list) {
                ClassicGroup held = classic.group(g.group());
                String state = kafkaState(g.state());
                if (held != null) {
                    synchronized (held) {
                        state = held.members.isEmpty() ? state : held.state.kafkaName;
                    }
                }
                String s = state;
                if (!data.statesFilter().isEmpty() && data.statesFilter().stream().noneMatch(f -> f.equalsIgnoreCase(s))) {
                    continue;
                }
                if (!data.typesFilter().isEmpty() && data.typesFilter().stream().noneMatch(f -> f.equalsIgnoreCase("classic"))) {
                    continue;
                }
                response.groups().add(new ListGroupsResponseData.ListedGroup().setGroupId(g.group())
                        .setProtocolType(ConsumerProtocol.PROTOCOL_TYPE).setGroupState(state).setGroupType("classic"));
            }
            return response;
        });
    }

    private CompletableFuture<ApiMessage> describeGroups(KafkaRequest request) {
        DescribeGroupsRequestData data = request.data();
        DescribeGroupsResponseData response = new DescribeGroupsResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (String id : data.groups()) {
            DescribeGroupsResponseData.DescribedGroup out = new DescribeGroupsResponseData.DescribedGroup()
                    .setGroupId(id).setErrorCode(Errors.NONE.code()).setProtocolType("").setProtocolData("");
            response.groups().add(out);
            ClassicGroup held = classic.group(id);
            if (held != null && describeHeld(held, out)) {
                continue;
            }
            if (!GroupNames.validGroup(id)) {
                out.setErrorCode(Errors.INVALID_GROUP_ID.code()).setGroupState("Dead");
                continue;
            }
            all.add(groups.describe(id).handle((d, e) -> {
                if (e != null) {
                    boolean unknown = KafkaErrors.unwrap(e) instanceof UnknownGroupException;
                    out.setGroupState("Dead");
                    if (!unknown || request.version() >= 6) {
                        out.setErrorCode((unknown ? Errors.GROUP_ID_NOT_FOUND : GroupErrors.forGroup(e)).code());
                    }
                    return null;
                }
                out.setGroupState(kafkaState(d.state())).setProtocolType(ConsumerProtocol.PROTOCOL_TYPE)
                        .setProtocolData(d.members().isEmpty() ? "" : "strata");
                for (GroupDescription.Member m : d.members()) {
                    List<org.apache.kafka.common.TopicPartition> owned = m.owned().stream()
                            .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList();
                    out.members().add(new DescribeGroupsResponseData.DescribedGroupMember().setMemberId(m.memberId())
                            .setClientId(m.clientId()).setClientHost(m.clientAddress())
                            .setMemberMetadata(bytes(ConsumerProtocol.serializeSubscription(
                                    new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription(m.topics()))))
                            .setMemberAssignment(bytes(ConsumerProtocol.serializeAssignment(
                                    new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment(owned)))));
                }
                return null;
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    /** A group this node coordinates, from its protocol state; false when it has no members here. */
    private static boolean describeHeld(ClassicGroup g, DescribeGroupsResponseData.DescribedGroup out) {
        synchronized (g) {
            if (g.members.isEmpty()) {
                return false;
            }
            out.setGroupState(g.state.kafkaName).setProtocolType(g.protocolType == null ? "" : g.protocolType)
                    .setProtocolData(g.state == ClassicGroup.State.STABLE && g.protocolName != null ? g.protocolName : "");
            for (ClassicGroup.Member m : g.members.values()) {
                byte[] metadata = g.protocolName == null ? new byte[0]
                        : m.protocols.getOrDefault(g.protocolName, new byte[0]);
                out.members().add(new DescribeGroupsResponseData.DescribedGroupMember().setMemberId(m.id)
                        .setClientId(m.clientId).setClientHost(m.clientHost).setMemberMetadata(metadata)
                        .setMemberAssignment(g.state == ClassicGroup.State.STABLE ? m.assignment : new byte[0]));
            }
            return true;
        }
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    /** OffsetDelete: a group's commits of partitions whose topic no live member subscribes to. */
    private CompletableFuture<ApiMessage> offsetDelete(KafkaRequest request) {
        org.apache.kafka.common.message.OffsetDeleteRequestData data = request.data();
        org.apache.kafka.common.message.OffsetDeleteResponseData response =
                new org.apache.kafka.common.message.OffsetDeleteResponseData().setErrorCode(Errors.NONE.code());
        if (!GroupNames.validGroup(data.groupId())) {
            return done(response.setErrorCode(Errors.INVALID_GROUP_ID.code()));
        }
        List<TopicPartition> asked = new ArrayList<>();
        data.topics().forEach(t -> t.partitions().forEach(p -> asked.add(new TopicPartition(t.name(), p.partitionIndex()))));
        return classic.membership().deleteOffsets(data.groupId(), asked).handle((kept, e) -> {
            if (e != null) {
                return response.setErrorCode(GroupErrors.forGroup(e).code());
            }
            for (var t : data.topics()) {
                var topic = new org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponseTopic()
                        .setName(t.name());
                for (var p : t.partitions()) {
                    boolean subscribed = kept.contains(new TopicPartition(t.name(), p.partitionIndex()));
                    topic.partitions().add(new org.apache.kafka.common.message.OffsetDeleteResponseData
                            .OffsetDeleteResponsePartition().setPartitionIndex(p.partitionIndex()).setErrorCode(
                                    (subscribed ? Errors.GROUP_SUBSCRIBED_TO_TOPIC : Errors.NONE).code()));
                }
                response.topics().add(topic);
            }
            return response;
        });
    }

    private CompletableFuture<ApiMessage> deleteGroups(KafkaRequest request) {
        DeleteGroupsRequestData data = request.data();
        DeleteGroupsResponseData response = new DeleteGroupsResponseData();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (String id : data.groupsNames()) {
            DeleteGroupsResponseData.DeletableGroupResult out = new DeleteGroupsResponseData.DeletableGroupResult()
                    .setGroupId(id).setErrorCode(Errors.NONE.code());
            response.results().add(out);
            if (!GroupNames.validGroup(id)) {
                out.setErrorCode(Errors.INVALID_GROUP_ID.code());
                continue;
            }
            all.add(groups.delete(id, false).handle((v, e) -> {
                if (e != null) {
                    out.setErrorCode(GroupErrors.forGroup(e).code());
                }
                return null;
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }
}
