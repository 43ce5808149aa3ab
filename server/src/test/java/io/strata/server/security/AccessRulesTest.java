package io.strata.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.ClusterServiceGrpc;
import io.strata.api.v1.CommitOffsetsRequest;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.GroupServiceGrpc;
import io.strata.api.v1.JoinGroupRequest;
import io.strata.api.v1.PartitionCommit;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.api.v1.SecurityServiceGrpc;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.metadata.security.AclOperation;
import io.strata.security.Need;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class AccessRulesTest {
    @Test
    void everyMethodOfTheClientPortHasARule() {
        List<String> methods = Stream.of(AdminServiceGrpc.getServiceDescriptor(), ClusterServiceGrpc.getServiceDescriptor(),
                        FetchServiceGrpc.getServiceDescriptor(), GroupServiceGrpc.getServiceDescriptor(),
                        ProducerServiceGrpc.getServiceDescriptor(), SecurityServiceGrpc.getServiceDescriptor(),
                        io.strata.api.v1.ShareServiceGrpc.getServiceDescriptor(),
                        io.strata.api.v1.TransactionServiceGrpc.getServiceDescriptor())
                .map(ServiceDescriptor::getMethods).flatMap(java.util.Collection::stream)
                .map(MethodDescriptor::getFullMethodName).toList();
        assertThat(AccessRules.methods()).containsExactlyInAnyOrderElementsOf(methods);
    }

    @Test
    void aDescribedOrListedTransactionShowsOnlyTheTopicsAndGroupsTheCallerMayDescribe() {
        io.strata.api.v1.TransactionDescription d = io.strata.api.v1.TransactionDescription.newBuilder()
                .setTransactionalId("etl")
                .addPartitions(io.strata.api.v1.TransactionPartition.newBuilder().setTopic("orders").setPartition(0))
                .addPartitions(io.strata.api.v1.TransactionPartition.newBuilder().setTopic("payroll").setPartition(1))
                .addOffsets(io.strata.api.v1.TransactionOffset.newBuilder().setGroup("g").setTopic("orders"))
                .addOffsets(io.strata.api.v1.TransactionOffset.newBuilder().setGroup("g").setTopic("payroll"))
                .addOffsets(io.strata.api.v1.TransactionOffset.newBuilder().setGroup("secret").setTopic("orders"))
                .build();
        java.util.function.Predicate<Need> may = n -> !n.name().equals("payroll") && !n.name().equals("secret");
        var described = (io.strata.api.v1.TransactionDescription) AccessRules.of(io.strata.api.v1.TransactionServiceGrpc
                .getDescribeTransactionMethod().getFullMethodName()).filter().apply(d, may);
        assertThat(described.getPartitionsList()).extracting(io.strata.api.v1.TransactionPartition::getTopic)
                .containsExactly("orders");
        assertThat(described.getOffsetsList()).extracting(o -> o.getGroup() + "/" + o.getTopic())
                .containsExactly("g/orders");
        var listed = (io.strata.api.v1.ListTransactionsResponse) AccessRules.of(io.strata.api.v1.TransactionServiceGrpc
                .getListTransactionsMethod().getFullMethodName()).filter().apply(io.strata.api.v1.ListTransactionsResponse
                .newBuilder().addTransactions(d).addTransactions(d.toBuilder().setTransactionalId("secret")).build(), may);
        assertThat(listed.getTransactionsList()).containsExactly(described);
    }

    @Test
    void addingPartitionsToATransactionNeedsProduceOnItsIdAndOnEachTopicOnce() {
        io.strata.api.v1.AddPartitionsRequest r = io.strata.api.v1.AddPartitionsRequest.newBuilder()
                .setTransactionalId("etl")
                .addPartitions(io.strata.api.v1.TransactionPartition.newBuilder().setTopic("a").setPartition(0))
                .addPartitions(io.strata.api.v1.TransactionPartition.newBuilder().setTopic("a").setPartition(1))
                .addPartitions(io.strata.api.v1.TransactionPartition.newBuilder().setTopic("b")).build();
        assertThat(AccessRules.of(io.strata.api.v1.TransactionServiceGrpc.getAddPartitionsMethod().getFullMethodName())
                .needs().apply(r)).containsExactly(Need.transactionalId(AclOperation.PRODUCE, "etl"),
                Need.topic(AclOperation.PRODUCE, "a"), Need.topic(AclOperation.PRODUCE, "b"));
    }

    @Test
    void aProduceNeedsProduceOnEveryTopicItWritesToOnce() {
        ProduceRequest r = ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic("a"))
                .addEntries(TopicPartitionRecords.newBuilder().setTopic("b"))
                .addEntries(TopicPartitionRecords.newBuilder().setTopic("a")).build();
        assertThat(AccessRules.of(ProducerServiceGrpc.getProduceMethod().getFullMethodName()).needs().apply(r))
                .containsExactly(Need.topic(AclOperation.PRODUCE, "a"), Need.topic(AclOperation.PRODUCE, "b"));
    }

    @Test
    void aTransactionalProduceAlsoNeedsProduceOnItsTransactionalIdForItMayAddPartitionsToIt() {
        ProduceRequest r = ProduceRequest.newBuilder().setTransactionalId("etl").setProducerId(4).setProducerEpoch(1)
                .setAddPartitions(true).addEntries(TopicPartitionRecords.newBuilder().setTopic("a")).build();
        assertThat(AccessRules.of(ProducerServiceGrpc.getProduceMethod().getFullMethodName()).needs().apply(r))
                .containsExactly(Need.transactionalId(AclOperation.PRODUCE, "etl"), Need.topic(AclOperation.PRODUCE, "a"));
    }

    @Test
    void joiningAndCommittingNeedConsumeOnTheGroupAndItsTopics() {
        JoinGroupRequest join = JoinGroupRequest.newBuilder().setGroup("g").addTopics("t").addTopics("u").build();
        assertThat(AccessRules.of(GroupServiceGrpc.getJoinGroupMethod().getFullMethodName()).needs().apply(join))
                .containsExactly(Need.group(AclOperation.CONSUME, "g"), Need.topic(AclOperation.CONSUME, "t"),
                        Need.topic(AclOperation.CONSUME, "u"));
        CommitOffsetsRequest commit = CommitOffsetsRequest.newBuilder().setGroup("g")
                .addOffsets(PartitionCommit.newBuilder().setTopic("t").setPartition(0).setOffset(5)).build();
        assertThat(AccessRules.of(GroupServiceGrpc.getCommitOffsetsMethod().getFullMethodName()).needs().apply(commit))
                .containsExactly(Need.group(AclOperation.CONSUME, "g"), Need.topic(AclOperation.CONSUME, "t"));
    }
}
