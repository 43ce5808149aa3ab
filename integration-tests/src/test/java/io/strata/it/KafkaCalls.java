package io.strata.it;

import io.strata.api.v1.AclEntry;
import io.strata.api.v1.AclOperation;
import io.strata.api.v1.AclResourceType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;

/**
 * Every API of the Kafka listener as a client sends it, each with what a principal needs for it (the ACLs of
 * the gRPC services: Kafka's operations map onto them) and the error a principal without them gets. Requests
 * use the topics and groups {@link #TOPICS} names; each call is one request, sent afresh every time it is used.
 */
final class KafkaCalls {
    /** The topics the calls touch, besides {@code t}: made before the matrix runs. */
    static final List<String> TOPICS = List.of("k-doomed", "k-grow");

    /**
     * One request, the version it is sent at, what it needs, the error that says it lacks that, and what its API
     * may answer a caller allowed to make it (NONE, or what the request itself meets: a member unknown here, a
     * node that does not coordinate the group, a topic the previous caller already made).
     */
    record KafkaCall(String name, ApiKeys key, short version, java.util.function.Supplier<ApiMessage> request,
                     List<AclEntry> grants, Errors denied, java.util.Set<Errors> served) {
        KafkaCall answering(Errors... also) {
            java.util.Set<Errors> all = java.util.EnumSet.copyOf(served);
            all.addAll(List.of(also));
            return new KafkaCall(name, key, version, request, grants, denied, all);
        }
    }

    private KafkaCalls() {
    }

    /** The calls, with {@code topicId} the id of topic {@code t} (the newest versions name topics by id). */
    static List<KafkaCall> all(String principal, Uuid topicId) {
        String t = "t";
        List<KafkaCall> calls = new ArrayList<>();
        List<AclEntry> produce = List.of(topic(principal, AclOperation.ACL_OPERATION_PRODUCE, t));
        calls.add(call("Produce by name", ApiKeys.PRODUCE, 9, () -> produce(t, Uuid.ZERO_UUID), produce,
                Errors.TOPIC_AUTHORIZATION_FAILED));
        calls.add(call("Produce by id", ApiKeys.PRODUCE, 13, () -> produce("", topicId), produce,
                Errors.TOPIC_AUTHORIZATION_FAILED));
        List<AclEntry> consume = List.of(topic(principal, AclOperation.ACL_OPERATION_CONSUME, t));
        calls.add(call("Fetch by name", ApiKeys.FETCH, 12, () -> fetch(t, Uuid.ZERO_UUID), consume,
                Errors.TOPIC_AUTHORIZATION_FAILED));
        calls.add(call("Fetch by id", ApiKeys.FETCH, 13, () -> fetch("", topicId), consume,
                Errors.TOPIC_AUTHORIZATION_FAILED));
        List<AclEntry> describeT = List.of(topic(principal, AclOperation.ACL_OPERATION_DESCRIBE, t));
        calls.add(call("ListOffsets", ApiKeys.LIST_OFFSETS, 6, () -> new ListOffsetsRequestData().setReplicaId(-1)
                .setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic().setName(t).setPartitions(List.of(
                        new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-1))))),
                describeT, Errors.TOPIC_AUTHORIZATION_FAILED));
        calls.add(call("DescribeProducers", ApiKeys.DESCRIBE_PRODUCERS, 0, () ->
                new org.apache.kafka.common.message.DescribeProducersRequestData().setTopics(List.of(
                        new org.apache.kafka.common.message.DescribeProducersRequestData.TopicRequest().setName(t)
                                .setPartitionIndexes(List.of(0)))), consume, Errors.TOPIC_AUTHORIZATION_FAILED));
        // Metadata needs nothing to ask, but answers only what the caller may describe: a topic asked for by name
        // is refused as Kafka's brokers refuse it.
        calls.add(call("Metadata", ApiKeys.METADATA, 12, () -> new MetadataRequestData().setTopics(List.of(
                new MetadataRequestData.MetadataRequestTopic().setName(t))).setAllowAutoTopicCreation(false),
                describeT, Errors.TOPIC_AUTHORIZATION_FAILED));
        var made = new CreateTopicsRequestData.CreatableTopicCollection();
        made.add(new CreateTopicsRequestData.CreatableTopic().setName("k-made").setNumPartitions(1)
                .setReplicationFactor((short) -1));
        calls.add(call("CreateTopics", ApiKeys.CREATE_TOPICS, 7, () -> new CreateTopicsRequestData().setTimeoutMs(10_000)
                .setTopics(made.duplicate()), List.of(topic(principal, AclOperation.ACL_OPERATION_CREATE, "k-made")),
                Errors.TOPIC_AUTHORIZATION_FAILED).answering(Errors.TOPIC_ALREADY_EXISTS));
        calls.add(call("DeleteTopics", ApiKeys.DELETE_TOPICS, 6, () -> new DeleteTopicsRequestData().setTimeoutMs(10_000)
                .setTopics(List.of(new DeleteTopicsRequestData.DeleteTopicState().setName("k-doomed"))),
                List.of(topic(principal, AclOperation.ACL_OPERATION_DELETE, "k-doomed")), Errors.TOPIC_AUTHORIZATION_FAILED)
                .answering(Errors.UNKNOWN_TOPIC_OR_PARTITION));
        calls.add(call("DeleteRecords", ApiKeys.DELETE_RECORDS, 2, () -> new DeleteRecordsRequestData().setTimeoutMs(10_000)
                .setTopics(List.of(new DeleteRecordsRequestData.DeleteRecordsTopic().setName("k-purged").setPartitions(
                        List.of(new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(0).setOffset(-1))))),
                List.of(topic(principal, AclOperation.ACL_OPERATION_DELETE, "k-purged")), Errors.TOPIC_AUTHORIZATION_FAILED)
                .answering(Errors.UNKNOWN_TOPIC_OR_PARTITION));
        calls.add(call("CreatePartitions", ApiKeys.CREATE_PARTITIONS, 3, () -> new CreatePartitionsRequestData()
                .setTimeoutMs(10_000).setTopics(new CreatePartitionsRequestData.CreatePartitionsTopicCollection(List.of(
                        new CreatePartitionsRequestData.CreatePartitionsTopic().setName("k-grow").setCount(3)
                                .setAssignments(null)).iterator())),
                List.of(topic(principal, AclOperation.ACL_OPERATION_ALTER, "k-grow")), Errors.TOPIC_AUTHORIZATION_FAILED)
                .answering(Errors.INVALID_PARTITIONS));
        byte topicResource = org.apache.kafka.common.config.ConfigResource.Type.TOPIC.id();
        calls.add(call("DescribeConfigs", ApiKeys.DESCRIBE_CONFIGS, 4, () -> new DescribeConfigsRequestData()
                .setResources(List.of(new DescribeConfigsRequestData.DescribeConfigsResource()
                        .setResourceType(topicResource).setResourceName(t))), describeT,
                Errors.TOPIC_AUTHORIZATION_FAILED));
        List<AclEntry> alterT = List.of(topic(principal, AclOperation.ACL_OPERATION_ALTER, t));
        calls.add(call("AlterConfigs", ApiKeys.ALTER_CONFIGS, 2, () -> {
            var configs = new AlterConfigsRequestData.AlterableConfigCollection();
            configs.add(new AlterConfigsRequestData.AlterableConfig().setName("retention.ms").setValue("86400000"));
            var resources = new AlterConfigsRequestData.AlterConfigsResourceCollection();
            resources.add(new AlterConfigsRequestData.AlterConfigsResource().setResourceType(topicResource)
                    .setResourceName(t).setConfigs(configs));
            return new AlterConfigsRequestData().setResources(resources);
        }, alterT, Errors.TOPIC_AUTHORIZATION_FAILED));
        calls.add(call("IncrementalAlterConfigs", ApiKeys.INCREMENTAL_ALTER_CONFIGS, 1, () -> {
            var configs = new IncrementalAlterConfigsRequestData.AlterableConfigCollection();
            configs.add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName("retention.ms")
                    .setConfigOperation((byte) 0).setValue("86400000"));
            var resources = new IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection();
            resources.add(new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType(topicResource)
                    .setResourceName(t).setConfigs(configs));
            return new IncrementalAlterConfigsRequestData().setResources(resources);
        }, alterT, Errors.TOPIC_AUTHORIZATION_FAILED));
        calls.add(call("DescribeCluster", ApiKeys.DESCRIBE_CLUSTER, 1, DescribeClusterRequestData::new, List.of(), null));
        calls.add(call("InitProducerId", ApiKeys.INIT_PRODUCER_ID, 4, () -> new InitProducerIdRequestData()
                .setTransactionalId(null).setTransactionTimeoutMs(-1).setProducerId(-1).setProducerEpoch((short) -1),
                List.of(), null));
        calls.add(call("ListGroups", ApiKeys.LIST_GROUPS, 4, ListGroupsRequestData::new, List.of(), null));
        transactions(calls, principal, t);

        String g = "k-g";
        List<AclEntry> describeG = List.of(group(principal, AclOperation.ACL_OPERATION_DESCRIBE, g));
        List<AclEntry> member = List.of(group(principal, AclOperation.ACL_OPERATION_CONSUME, g));
        calls.add(call("FindCoordinator", ApiKeys.FIND_COORDINATOR, 4, () -> new FindCoordinatorRequestData()
                .setKeyType((byte) 0).setCoordinatorKeys(List.of(g)), describeG, Errors.GROUP_AUTHORIZATION_FAILED));
        calls.add(call("JoinGroup", ApiKeys.JOIN_GROUP, 9, () -> {
            var protocols = new JoinGroupRequestData.JoinGroupRequestProtocolCollection();
            protocols.add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(
                    org.apache.kafka.clients.consumer.internals.ConsumerProtocol.serializeSubscription(
                            new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription(List.of(t)))
                            .array()));
            return new JoinGroupRequestData().setGroupId(g).setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000)
                    .setMemberId("").setProtocolType("consumer").setProtocols(protocols);
        }, member, Errors.GROUP_AUTHORIZATION_FAILED).answering(Errors.NOT_COORDINATOR, Errors.MEMBER_ID_REQUIRED));
        calls.add(call("SyncGroup", ApiKeys.SYNC_GROUP, 5, () -> new SyncGroupRequestData().setGroupId(g)
                .setGenerationId(1).setMemberId("nobody").setProtocolType("consumer").setProtocolName("range"),
                member, Errors.GROUP_AUTHORIZATION_FAILED).answering(Errors.NOT_COORDINATOR, Errors.UNKNOWN_MEMBER_ID));
        calls.add(call("Heartbeat", ApiKeys.HEARTBEAT, 4, () -> new HeartbeatRequestData().setGroupId(g)
                .setGenerationId(1).setMemberId("nobody"), member, Errors.GROUP_AUTHORIZATION_FAILED)
                .answering(Errors.NOT_COORDINATOR, Errors.UNKNOWN_MEMBER_ID));
        calls.add(call("LeaveGroup", ApiKeys.LEAVE_GROUP, 5, () -> new LeaveGroupRequestData().setGroupId(g)
                .setMembers(List.of(new LeaveGroupRequestData.MemberIdentity().setMemberId("nobody"))), member,
                Errors.GROUP_AUTHORIZATION_FAILED).answering(Errors.NOT_COORDINATOR, Errors.UNKNOWN_MEMBER_ID));
        String next = "k-next";
        calls.add(call("ConsumerGroupHeartbeat", ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1, () ->
                new ConsumerGroupHeartbeatRequestData().setGroupId(next).setMemberId(Uuid.randomUuid().toString())
                        .setMemberEpoch(0).setRebalanceTimeoutMs(10_000).setSubscribedTopicNames(List.of(t))
                        .setTopicPartitions(List.of()),
                List.of(group(principal, AclOperation.ACL_OPERATION_CONSUME, next), consume.get(0)),
                Errors.GROUP_AUTHORIZATION_FAILED));
        calls.add(call("OffsetCommit", ApiKeys.OFFSET_COMMIT, 8, () -> new OffsetCommitRequestData().setGroupId(g)
                .setGenerationIdOrMemberEpoch(-1).setMemberId("").setTopics(List.of(
                        new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(t).setPartitions(List.of(
                                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                                        .setCommittedOffset(1))))),
                List.of(member.get(0), consume.get(0)), Errors.GROUP_AUTHORIZATION_FAILED).answering(Errors.NOT_COORDINATOR));
        calls.add(call("OffsetFetch", ApiKeys.OFFSET_FETCH, 8, () -> new OffsetFetchRequestData().setGroups(List.of(
                new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(g).setTopics(null))), describeG,
                Errors.GROUP_AUTHORIZATION_FAILED));
        calls.add(call("DescribeGroups", ApiKeys.DESCRIBE_GROUPS, 5, () -> new DescribeGroupsRequestData()
                .setGroups(List.of(g)), describeG, Errors.GROUP_AUTHORIZATION_FAILED));
        calls.add(call("DeleteGroups", ApiKeys.DELETE_GROUPS, 2, () -> new DeleteGroupsRequestData()
                .setGroupsNames(List.of("k-g-doomed")),
                List.of(group(principal, AclOperation.ACL_OPERATION_DELETE, "k-g-doomed")),
                Errors.GROUP_AUTHORIZATION_FAILED).answering(Errors.NOT_COORDINATOR, Errors.GROUP_ID_NOT_FOUND));
        calls.add(call("OffsetDelete", ApiKeys.OFFSET_DELETE, 0, () -> {
            var partitions = List.of(new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(1));
            var topics = new OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection();
            topics.add(new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName(t).setPartitions(partitions));
            return new OffsetDeleteRequestData().setGroupId(g).setTopics(topics);
        }, List.of(group(principal, AclOperation.ACL_OPERATION_ALTER_GROUP, g), describeT.get(0)),
                Errors.GROUP_AUTHORIZATION_FAILED).answering(Errors.NOT_COORDINATOR, Errors.GROUP_ID_NOT_FOUND));

        List<AclEntry> admin = List.of(AclEntry.newBuilder().setPrincipal(principal)
                .setOperation(AclOperation.ACL_OPERATION_ADMIN).setResourceType(AclResourceType.ACL_RESOURCE_CLUSTER)
                .build());
        calls.add(call("DescribeLogDirs", ApiKeys.DESCRIBE_LOG_DIRS, 4, () -> new DescribeLogDirsRequestData()
                .setTopics(null), List.of(AclEntry.newBuilder().setPrincipal(principal)
                .setOperation(AclOperation.ACL_OPERATION_DESCRIBE).setResourceType(AclResourceType.ACL_RESOURCE_CLUSTER)
                .build()), Errors.CLUSTER_AUTHORIZATION_FAILED));
        calls.add(call("DescribeClientQuotas", ApiKeys.DESCRIBE_CLIENT_QUOTAS, 1, () ->
                new DescribeClientQuotasRequestData().setComponents(List.of()).setStrict(false), admin,
                Errors.CLUSTER_AUTHORIZATION_FAILED));
        calls.add(call("AlterClientQuotas", ApiKeys.ALTER_CLIENT_QUOTAS, 1, () -> new AlterClientQuotasRequestData()
                .setEntries(List.of(new AlterClientQuotasRequestData.EntryData()
                        .setEntity(List.of(new AlterClientQuotasRequestData.EntityData().setEntityType("user")
                                .setEntityName("k-matrix")))
                        .setOps(List.of(new AlterClientQuotasRequestData.OpData().setKey("producer_byte_rate")
                                .setValue(1_000_000))))), admin, Errors.CLUSTER_AUTHORIZATION_FAILED));
        // The cluster's ACLs: a rule made, read, and removed again (in this order, so the matrix leaves none behind).
        var rule = new org.apache.kafka.common.acl.AclBinding(new org.apache.kafka.common.resource.ResourcePattern(
                org.apache.kafka.common.resource.ResourceType.TOPIC, "k-acl",
                org.apache.kafka.common.resource.PatternType.LITERAL), new org.apache.kafka.common.acl.AccessControlEntry(
                "User:k-matrix", "*", org.apache.kafka.common.acl.AclOperation.READ,
                org.apache.kafka.common.acl.AclPermissionType.ALLOW));
        calls.add(call("CreateAcls", ApiKeys.CREATE_ACLS, 3, () -> new org.apache.kafka.common.message.CreateAclsRequestData()
                .setCreations(List.of(org.apache.kafka.common.requests.CreateAclsRequest.aclCreation(rule))), admin,
                Errors.CLUSTER_AUTHORIZATION_FAILED));
        calls.add(call("DescribeAcls", ApiKeys.DESCRIBE_ACLS, 3, () -> new org.apache.kafka.common.message.DescribeAclsRequestData()
                .setResourceTypeFilter((byte) 1).setPatternTypeFilter((byte) 1).setOperation((byte) 1)
                .setPermissionType((byte) 1), admin, Errors.CLUSTER_AUTHORIZATION_FAILED));
        calls.add(call("DeleteAcls", ApiKeys.DELETE_ACLS, 3, () -> new org.apache.kafka.common.message.DeleteAclsRequestData()
                .setFilters(List.of(org.apache.kafka.common.requests.DeleteAclsRequest.deleteAclsFilter(rule.toFilter()))),
                admin, Errors.CLUSTER_AUTHORIZATION_FAILED));
        // kafka-transactions.sh abort of a producer with nothing open: allowed, it changes nothing.
        calls.add(call("WriteTxnMarkers", ApiKeys.WRITE_TXN_MARKERS, 1, () ->
                new org.apache.kafka.common.message.WriteTxnMarkersRequestData().setMarkers(List.of(
                        new org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarker()
                                .setProducerId(1).setProducerEpoch((short) 0).setTransactionResult(false)
                                .setCoordinatorEpoch(-1).setTopics(List.of(new org.apache.kafka.common.message
                                        .WriteTxnMarkersRequestData.WritableTxnMarkerTopic().setName(t)
                                        .setPartitionIndexes(List.of(0)))))), admin,
                Errors.CLUSTER_AUTHORIZATION_FAILED));
        // The users: a SCRAM-SHA-512 credential set (a user made), then described.
        calls.add(call("AlterUserScramCredentials", ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, 0, () ->
                new org.apache.kafka.common.message.AlterUserScramCredentialsRequestData().setUpsertions(List.of(
                        new org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialUpsertion()
                                .setName("k-scram").setMechanism((byte) 2).setIterations(4096)
                                .setSalt(new byte[16]).setSaltedPassword(new byte[64]))), admin,
                Errors.CLUSTER_AUTHORIZATION_FAILED));
        calls.add(call("DescribeUserScramCredentials", ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, 0, () ->
                new org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData().setUsers(List.of(
                        new org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData.UserName()
                                .setName("k-scram"))), admin,
                Errors.CLUSTER_AUTHORIZATION_FAILED));
        return calls;
    }

    /**
     * The transactional APIs: produce on the transactional id, and on what a transaction adds (produce on topics,
     * consume on a group and its topics). The producer id they name is not the id's, so an allowed caller meets that.
     */
    private static void transactions(List<KafkaCall> calls, String principal, String t) {
        String id = "k-txn";
        String g = "k-g";
        AclEntry txn = AclEntry.newBuilder().setPrincipal(principal).setOperation(AclOperation.ACL_OPERATION_PRODUCE)
                .setResourceType(AclResourceType.ACL_RESOURCE_TRANSACTIONAL_ID).setResourceName(id).build();
        Errors denied = Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        Errors[] notItsProducer = {Errors.INVALID_PRODUCER_ID_MAPPING, Errors.PRODUCER_FENCED,
                Errors.INVALID_PRODUCER_EPOCH, Errors.INVALID_TXN_STATE};
        calls.add(call("InitProducerId transactional", ApiKeys.INIT_PRODUCER_ID, 4, () ->
                new org.apache.kafka.common.message.InitProducerIdRequestData().setTransactionalId(id)
                        .setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1),
                List.of(txn), denied));
        calls.add(call("AddPartitionsToTxn", ApiKeys.ADD_PARTITIONS_TO_TXN, 3, () -> {
            var topics = new org.apache.kafka.common.message.AddPartitionsToTxnRequestData
                    .AddPartitionsToTxnTopicCollection();
            topics.add(new org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic()
                    .setName(t).setPartitions(List.of(0)));
            return new org.apache.kafka.common.message.AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId(id)
                    .setV3AndBelowProducerId(1).setV3AndBelowProducerEpoch((short) 0).setV3AndBelowTopics(topics);
        }, List.of(txn, topic(principal, AclOperation.ACL_OPERATION_PRODUCE, t)), denied).answering(notItsProducer));
        calls.add(call("EndTxn", ApiKeys.END_TXN, 4, () -> new org.apache.kafka.common.message.EndTxnRequestData()
                .setTransactionalId(id).setProducerId(1).setProducerEpoch((short) 0).setCommitted(true),
                List.of(txn), denied).answering(notItsProducer));
        calls.add(call("AddOffsetsToTxn", ApiKeys.ADD_OFFSETS_TO_TXN, 3, () ->
                new org.apache.kafka.common.message.AddOffsetsToTxnRequestData().setTransactionalId(id).setProducerId(1)
                        .setProducerEpoch((short) 0).setGroupId(g),
                List.of(txn, group(principal, AclOperation.ACL_OPERATION_CONSUME, g)), denied)
                .answering(notItsProducer));
        calls.add(call("TxnOffsetCommit", ApiKeys.TXN_OFFSET_COMMIT, 3, () ->
                new org.apache.kafka.common.message.TxnOffsetCommitRequestData().setTransactionalId(id).setGroupId(g)
                        .setProducerId(1).setProducerEpoch((short) 0).setGenerationId(-1).setMemberId("")
                        .setTopics(List.of(new org.apache.kafka.common.message.TxnOffsetCommitRequestData
                                .TxnOffsetCommitRequestTopic().setName(t).setPartitions(List.of(
                                        new org.apache.kafka.common.message.TxnOffsetCommitRequestData
                                                .TxnOffsetCommitRequestPartition().setPartitionIndex(0)
                                                .setCommittedOffset(0))))),
                List.of(txn, group(principal, AclOperation.ACL_OPERATION_CONSUME, g),
                        topic(principal, AclOperation.ACL_OPERATION_CONSUME, t)), denied)
                .answering(Errors.UNKNOWN_MEMBER_ID, Errors.NOT_COORDINATOR));
        // Listed: only the ids the principal may describe. Described: each id asked needs describe on it.
        calls.add(call("ListTransactions", ApiKeys.LIST_TRANSACTIONS, 1,
                org.apache.kafka.common.message.ListTransactionsRequestData::new, List.of(), null));
        calls.add(call("DescribeTransactions", ApiKeys.DESCRIBE_TRANSACTIONS, 0, () ->
                new org.apache.kafka.common.message.DescribeTransactionsRequestData().setTransactionalIds(List.of(id)),
                List.of(AclEntry.newBuilder().setPrincipal(principal).setOperation(AclOperation.ACL_OPERATION_DESCRIBE)
                        .setResourceType(AclResourceType.ACL_RESOURCE_TRANSACTIONAL_ID).setResourceName(id).build()),
                denied).answering(Errors.TRANSACTIONAL_ID_NOT_FOUND));
    }

    private static KafkaCall call(String name, ApiKeys key, int version, java.util.function.Supplier<ApiMessage> request,
                                  List<AclEntry> grants, Errors denied) {
        return new KafkaCall(name, key, (short) version, request, grants, denied, java.util.EnumSet.of(Errors.NONE));
    }

    private static ProduceRequestData produce(String topic, Uuid id) {
        var topics = new ProduceRequestData.TopicProduceDataCollection();
        topics.add(new ProduceRequestData.TopicProduceData().setName(topic).setTopicId(id).setPartitionData(List.of(
                new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(MemoryRecords.withRecords(
                        Compression.NONE, new SimpleRecord("matrix".getBytes(StandardCharsets.UTF_8)))))));
        return new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000).setTopicData(topics);
    }

    private static FetchRequestData fetch(String topic, Uuid id) {
        return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0).setMaxBytes(1 << 20)
                .setSessionId(0).setSessionEpoch(-1).setTopics(List.of(new FetchRequestData.FetchTopic().setTopic(topic)
                        .setTopicId(id).setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(0)
                                .setFetchOffset(0).setPartitionMaxBytes(1 << 20)))));
    }

    private static AclEntry topic(String principal, AclOperation op, String name) {
        return AclEntry.newBuilder().setPrincipal(principal).setOperation(op)
                .setResourceType(AclResourceType.ACL_RESOURCE_TOPIC).setResourceName(name).build();
    }

    private static AclEntry group(String principal, AclOperation op, String name) {
        return AclEntry.newBuilder().setPrincipal(principal).setOperation(op)
                .setResourceType(AclResourceType.ACL_RESOURCE_GROUP).setResourceName(name).build();
    }
}
