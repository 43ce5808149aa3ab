package io.strata.server.security;

import static io.strata.metadata.InputText.quoted;
import static io.strata.metadata.security.AclOperation.ADMIN;
import static io.strata.metadata.security.AclOperation.ALTER;
import static io.strata.metadata.security.AclOperation.ALTER_GROUP;
import static io.strata.metadata.security.AclOperation.CONSUME;
import static io.strata.metadata.security.AclOperation.CREATE;
import static io.strata.metadata.security.AclOperation.DELETE;
import static io.strata.metadata.security.AclOperation.DESCRIBE;
import static io.strata.metadata.security.AclOperation.PRODUCE;

import io.grpc.MethodDescriptor;
import io.strata.api.v1.AclEntry;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.ClusterServiceGrpc;
import io.strata.api.v1.CommitOffsetsRequest;
import io.strata.api.v1.FetchCommittedResponse;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.GroupDescription;
import io.strata.api.v1.GroupMemberDescription;
import io.strata.api.v1.GroupServiceGrpc;
import io.strata.api.v1.JoinGroupRequest;
import io.strata.api.v1.ListGroupsResponse;
import io.strata.api.v1.ListTopicsResponse;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.api.v1.SecurityServiceGrpc;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.security.Need;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * What every RPC of the client port needs, read from its request before the call reaches the service: one
 * table, so a method cannot be forgotten ({@link CallGuard} refuses a method it has no rule for, and a test
 * holds the table against every method the services declare). Lists answer only what the caller may describe.
 * Admin actions are written to the audit log with their outcome.
 */
public final class AccessRules {
    /** One method's rule: what a request needs, whether it is audited, and how an answer is cut to what may be seen. */
    public record Rule(Function<Object, List<Need>> needs, Function<Object, String> audited,
                       BiFunction<Object, Predicate<Need>, Object> filter, boolean perRequestInService) {
    }

    private static final Map<String, Rule> RULES = new HashMap<>();

    static {
        // Topics
        on(AdminServiceGrpc.getCreateTopicMethod(), r -> List.of(Need.topic(CREATE, r.getName())), r -> "topic " + quoted(r.getName()));
        on(AdminServiceGrpc.getAlterTopicMethod(), r -> List.of(Need.topic(ALTER, r.getName())), r -> "topic " + quoted(r.getName()));
        on(AdminServiceGrpc.getDeleteTopicMethod(), r -> List.of(Need.topic(DELETE, r.getName())), r -> "topic " + quoted(r.getName()));
        // Kafka's DeleteRecords needs DELETE on the topic too.
        on(AdminServiceGrpc.getDeleteRecordsMethod(), r -> List.of(Need.topic(DELETE, r.getTopic())),
                r -> "topic " + quoted(r.getTopic()));
        on(AdminServiceGrpc.getDescribeTopicMethod(), r -> List.of(Need.topic(DESCRIBE, r.getName())), null);
        on(AdminServiceGrpc.getListOffsetsMethod(), r -> List.of(Need.topic(DESCRIBE, r.getTopic())), null);
        listing(AdminServiceGrpc.getListTopicsMethod(), (ListTopicsResponse answer, Predicate<Need> may) ->
                answer.toBuilder().clearTopics().addAllTopics(answer.getTopicsList().stream()
                        .filter(t -> may.test(Need.topic(DESCRIBE, t.getName()))).toList()).build());
        // Where nodes are: every caller that signed in may know it (as Kafka's Metadata tells brokers to all).
        // The stores' health names their endpoints and errors: for who may describe the cluster.
        on(ClusterServiceGrpc.getDescribeClusterMethod(), r -> r.getIncludeHealth()
                ? List.of(Need.cluster(DESCRIBE)) : List.of(), null);
        on(ClusterServiceGrpc.getDescribeCompactionMethod(), r -> List.of(Need.cluster(DESCRIBE)), null);
        // The console's history: a series is seen by who may describe the topic and the group it names.
        listing(ClusterServiceGrpc.getDescribeHistoryMethod(), (io.strata.api.v1.History answer, Predicate<Need> may) ->
                answer.toBuilder().clearSeries().addAllSeries(answer.getSeriesList().stream().filter(s ->
                        (!s.containsLabels("topic") || may.test(Need.topic(DESCRIBE, s.getLabelsOrThrow("topic"))))
                                && (!s.containsLabels("group") || may.test(Need.group(DESCRIBE,
                                s.getLabelsOrThrow("group"))))).toList()).build());
        // Records
        on(ProducerServiceGrpc.getProduceMethod(), AccessRules::produce, null);
        RULES.put(ProducerServiceGrpc.getProduceStreamMethod().getFullMethodName(), new Rule(r -> List.of(), null, null, true));
        on(ProducerServiceGrpc.getInitProducerMethod(), r -> List.of(), null);
        on(FetchServiceGrpc.getFetchMethod(), r -> List.of(Need.topic(CONSUME, r.getTopic())), null);
        on(FetchServiceGrpc.getFetchChunksMethod(), r -> List.of(Need.topic(CONSUME, r.getTopic())), null);
        on(FetchServiceGrpc.getSubscribeMethod(), r -> List.of(Need.topic(CONSUME, r.getTopic())), null);
        // Share groups: a member consumes the group and the topic, as a consumer group's member does.
        on(io.strata.api.v1.ShareServiceGrpc.getShareFetchMethod(), r -> List.of(Need.group(CONSUME, r.getGroup()),
                Need.topic(CONSUME, r.getTopic())), null);
        on(io.strata.api.v1.ShareServiceGrpc.getShareAcknowledgeMethod(), r -> List.of(Need.group(CONSUME, r.getGroup()),
                Need.topic(CONSUME, r.getTopic())), null);
        // A share group's listing counts only the topics the caller may describe.
        listing(io.strata.api.v1.ShareServiceGrpc.getListShareGroupsMethod(),
                (io.strata.api.v1.ListShareGroupsResponse answer, Predicate<Need> may) -> answer.toBuilder()
                        .clearGroups().addAllGroups(answer.getGroupsList().stream()
                                .filter(g -> may.test(Need.group(DESCRIBE, g.getGroup())))
                                .map(g -> visibleTopics(g, may)).toList()).build());
        filtered(io.strata.api.v1.ShareServiceGrpc.getDescribeShareGroupMethod(),
                r -> List.of(Need.group(DESCRIBE, r.getGroup())),
                (io.strata.api.v1.ShareGroupDescription answer, Predicate<Need> may) -> answer.toBuilder()
                        .clearPartitions().addAllPartitions(answer.getPartitionsList().stream()
                                .filter(p -> may.test(Need.topic(DESCRIBE, p.getTopic()))).toList()).build());
        on(io.strata.api.v1.ShareServiceGrpc.getDeleteShareGroupMethod(), r -> List.of(Need.group(DELETE, r.getGroup())),
                r -> "share group " + quoted(r.getGroup()));
        // Consumer groups
        on(GroupServiceGrpc.getJoinGroupMethod(), AccessRules::join, null);
        on(GroupServiceGrpc.getHeartbeatMethod(), r -> List.of(Need.group(CONSUME, r.getGroup())), null);
        on(GroupServiceGrpc.getLeaveGroupMethod(), r -> List.of(Need.group(CONSUME, r.getGroup())), null);
        on(GroupServiceGrpc.getSyncAssignmentMethod(), r -> List.of(Need.group(CONSUME, r.getGroup())), null);
        on(GroupServiceGrpc.getCommitOffsetsMethod(), AccessRules::commit, null);
        // A group's answers name topics: only those the caller may describe are shown.
        filtered(GroupServiceGrpc.getFetchCommittedMethod(), r -> r.hasTopic()
                ? List.of(Need.group(DESCRIBE, r.getGroup()), Need.topic(DESCRIBE, r.getTopic()))
                : List.of(Need.group(DESCRIBE, r.getGroup())), (FetchCommittedResponse answer, Predicate<Need> may) ->
                answer.toBuilder().clearOffsets().addAllOffsets(answer.getOffsetsList().stream()
                        .filter(o -> may.test(Need.topic(DESCRIBE, o.getTopic()))).toList()).build());
        filtered(GroupServiceGrpc.getDescribeGroupMethod(), r -> List.of(Need.group(DESCRIBE, r.getGroup())),
                AccessRules::describable);
        // Moving every topic's offsets at once (no topic named) is the group's admin's to do.
        on(GroupServiceGrpc.getResetOffsetsMethod(), r -> r.hasTopic()
                ? List.of(Need.group(ALTER_GROUP, r.getGroup()), Need.topic(DESCRIBE, r.getTopic()))
                : List.of(Need.group(ADMIN, r.getGroup())), r -> "group " + quoted(r.getGroup()));
        on(GroupServiceGrpc.getDeleteGroupMethod(), r -> List.of(Need.group(DELETE, r.getGroup())), r -> "group " + quoted(r.getGroup()));
        // Naming a dead-letter topic lets the group's nodes write there: the caller must be allowed to produce to it.
        on(GroupServiceGrpc.getAlterGroupSettingsMethod(), r -> r.hasDeadLetterTopic() && !r.getDeadLetterTopic().isEmpty()
                ? List.of(Need.group(ALTER_GROUP, r.getGroup()), Need.topic(PRODUCE, r.getDeadLetterTopic()))
                : List.of(Need.group(ALTER_GROUP, r.getGroup())), r -> "group " + quoted(r.getGroup()));
        on(GroupServiceGrpc.getDescribeGroupSettingsMethod(), r -> List.of(Need.group(DESCRIBE, r.getGroup())), null);
        listing(GroupServiceGrpc.getListGroupsMethod(), (ListGroupsResponse answer, Predicate<Need> may) ->
                answer.toBuilder().clearGroups().addAllGroups(answer.getGroupsList().stream()
                        .filter(g -> may.test(Need.group(DESCRIBE, g.getGroup()))).toList()).build());
        // Transactions: produce on the transactional id (and on the topics a transaction adds), describe to see it
        on(io.strata.api.v1.TransactionServiceGrpc.getInitTransactionsMethod(),
                r -> List.of(Need.transactionalId(PRODUCE, r.getTransactionalId())), null);
        on(io.strata.api.v1.TransactionServiceGrpc.getAddPartitionsMethod(), AccessRules::addPartitions, null);
        on(io.strata.api.v1.TransactionServiceGrpc.getAddOffsetsMethod(), r -> {
            List<Need> needs = new ArrayList<>(List.of(Need.transactionalId(PRODUCE, r.getTransactionalId()),
                    Need.group(CONSUME, r.getGroup())));
            new LinkedHashSet<>(r.getOffsetsList().stream().map(io.strata.api.v1.TransactionOffset::getTopic).toList())
                    .forEach(t -> needs.add(Need.topic(CONSUME, t)));
            return needs;
        }, null);
        on(io.strata.api.v1.TransactionServiceGrpc.getEndTransactionMethod(),
                r -> List.of(Need.transactionalId(PRODUCE, r.getTransactionalId())), null);
        // A transaction's partitions and offsets name topics and groups: those the caller may not describe are left
        // out, as Metadata leaves such topics out.
        filtered(io.strata.api.v1.TransactionServiceGrpc.getDescribeTransactionMethod(),
                r -> List.of(Need.transactionalId(DESCRIBE, r.getTransactionalId())), AccessRules::visible);
        listing(io.strata.api.v1.TransactionServiceGrpc.getListTransactionsMethod(),
                (io.strata.api.v1.ListTransactionsResponse answer, Predicate<Need> may) -> answer.toBuilder()
                        .clearTransactions().addAllTransactions(answer.getTransactionsList().stream().filter(t ->
                                may.test(Need.transactionalId(DESCRIBE, t.getTransactionalId())))
                                .map(t -> visible(t, may)).toList()).build());
        on(io.strata.api.v1.TransactionServiceGrpc.getAbortTransactionMethod(), r -> List.of(Need.cluster(ADMIN)),
                r -> "transaction " + quoted(r.getTransactionalId()));
        // Half messages: a decision needs produce on the message's topic, which only its id names (the service
        // checks once it read the topic); a check-back stream is sent only the checks of topics its principal may
        // produce to; the listing shows the half messages of topics the caller may describe.
        RULES.put(io.strata.api.v1.TransactionServiceGrpc.getEndHalfMethod().getFullMethodName(),
                new Rule(r -> List.of(), null, null, true));
        RULES.put(io.strata.api.v1.TransactionServiceGrpc.getCheckBackMethod().getFullMethodName(),
                new Rule(r -> List.of(), null, null, true));
        listing(io.strata.api.v1.TransactionServiceGrpc.getListHalfMethod(),
                (io.strata.api.v1.ListHalfResponse answer, Predicate<Need> may) -> answer.toBuilder().clearMessages()
                        .addAllMessages(answer.getMessagesList().stream()
                                .filter(m -> may.test(Need.topic(DESCRIBE, m.getTopic()))).toList()).build());
        // Users and ACLs
        List<Need> admin = List.of(Need.cluster(ADMIN));
        on(SecurityServiceGrpc.getWhoAmIMethod(), r -> List.of(), null);
        on(SecurityServiceGrpc.getAddUserMethod(), r -> admin, r -> "user " + quoted(r.getName()));
        on(SecurityServiceGrpc.getRemoveUserMethod(), r -> admin, r -> "user " + quoted(r.getName()));
        on(SecurityServiceGrpc.getListUsersMethod(), r -> admin, null);
        on(SecurityServiceGrpc.getAddAclMethod(), r -> admin, r -> "acl " + describe(r.getAcl()));
        on(SecurityServiceGrpc.getRemoveAclMethod(), r -> admin, r -> "acl " + describe(r.getAcl()));
        on(SecurityServiceGrpc.getListAclsMethod(), r -> admin, null);
        on(SecurityServiceGrpc.getSetQuotaMethod(), r -> admin, r -> "quota " + quoted(r.getQuota().getEntity()));
        on(SecurityServiceGrpc.getRemoveQuotaMethod(), r -> admin, r -> "quota " + quoted(r.getEntity()));
        on(SecurityServiceGrpc.getListQuotasMethod(), r -> admin, null);
    }

    private AccessRules() {
    }

    /** The rule of a method, or null when it has none (then it is refused while access is checked). */
    public static Rule of(String fullMethodName) {
        return RULES.get(fullMethodName);
    }

    public static Set<String> methods() {
        return Set.copyOf(RULES.keySet());
    }

    /**
     * Produce on every topic the request writes to (each once), and on the transactional id whose transaction it
     * writes in (and may add partitions to), as AddPartitions needs and as Kafka's transactional Produce does.
     */
    public static List<Need> produce(ProduceRequest r) {
        Set<String> topics = new LinkedHashSet<>();
        for (TopicPartitionRecords e : r.getEntriesList()) {
            topics.add(e.getTopic());
        }
        List<Need> needs = new ArrayList<>(topics.size() + 1);
        if (!r.getTransactionalId().isEmpty()) {
            needs.add(Need.transactionalId(PRODUCE, r.getTransactionalId()));
        }
        topics.forEach(t -> needs.add(Need.topic(PRODUCE, t)));
        return needs;
    }

    private static List<Need> addPartitions(io.strata.api.v1.AddPartitionsRequest r) {
        List<Need> needs = new ArrayList<>();
        needs.add(Need.transactionalId(PRODUCE, r.getTransactionalId()));
        new LinkedHashSet<>(r.getPartitionsList().stream().map(io.strata.api.v1.TransactionPartition::getTopic)
                .toList()).forEach(t -> needs.add(Need.topic(PRODUCE, t)));
        return needs;
    }

    private static List<Need> join(JoinGroupRequest r) {
        List<Need> needs = new ArrayList<>();
        needs.add(Need.group(CONSUME, r.getGroup()));
        new LinkedHashSet<>(r.getTopicsList()).forEach(t -> needs.add(Need.topic(CONSUME, t)));
        return needs;
    }

    private static List<Need> commit(CommitOffsetsRequest r) {
        Set<String> topics = new LinkedHashSet<>();
        r.getOffsetsList().forEach(o -> topics.add(o.getTopic()));
        r.getReleaseList().forEach(o -> topics.add(o.getTopic()));
        List<Need> needs = new ArrayList<>();
        needs.add(Need.group(CONSUME, r.getGroup()));
        topics.forEach(t -> needs.add(Need.topic(CONSUME, t)));
        return needs;
    }

    /** A group's description with the topics the caller may not describe left out, members' subscriptions included. */
    private static io.strata.api.v1.ShareGroupListing visibleTopics(io.strata.api.v1.ShareGroupListing g,
                                                                  Predicate<Need> may) {
        List<io.strata.api.v1.ShareTopicLag> topics = g.getTopicsList().stream()
                .filter(t -> may.test(Need.topic(DESCRIBE, t.getTopic()))).toList();
        return g.toBuilder().clearTopics().addAllTopics(topics)
                .setPartitions(topics.stream().mapToInt(io.strata.api.v1.ShareTopicLag::getPartitions).sum())
                .setLag(topics.stream().mapToLong(io.strata.api.v1.ShareTopicLag::getLag).sum())
                .setAcquired(topics.stream().mapToLong(io.strata.api.v1.ShareTopicLag::getAcquired).sum()).build();
    }

    private static GroupDescription describable(GroupDescription d, Predicate<Need> may) {
        Predicate<String> visible = topic -> may.test(Need.topic(DESCRIBE, topic));
        GroupDescription.Builder b = d.toBuilder().clearMembers().clearPartitions();
        for (GroupMemberDescription m : d.getMembersList()) {
            b.addMembers(m.toBuilder().clearTopics().addAllTopics(m.getTopicsList().stream().filter(visible).toList())
                    .clearOwned().addAllOwned(m.getOwnedList().stream().filter(o -> visible.test(o.getTopic())).toList()));
        }
        d.getPartitionsList().stream().filter(p -> visible.test(p.getTopic())).forEach(b::addPartitions);
        return b.build();
    }

    private static String describe(AclEntry a) {
        return (a.getDeny() ? "deny " : "allow ") + quoted(a.getPrincipal()) + " " + a.getOperation() + " "
                + a.getResourceType() + (a.getPrefixed() ? " prefix " : " ") + quoted(a.getResourceName());
    }

    @SuppressWarnings("unchecked")
    private static <Q> void on(MethodDescriptor<Q, ?> method, Function<Q, List<Need>> needs, Function<Q, String> audited) {
        RULES.put(method.getFullMethodName(), new Rule(r -> needs.apply((Q) r),
                audited == null ? null : r -> audited.apply((Q) r), null, false));
    }

    @SuppressWarnings("unchecked")
    private static <Q, R> void filtered(MethodDescriptor<Q, R> method, Function<Q, List<Need>> needs,
                                        BiFunction<R, Predicate<Need>, R> filter) {
        RULES.put(method.getFullMethodName(), new Rule(r -> needs.apply((Q) r), null,
                (answer, may) -> filter.apply((R) answer, may), false));
    }

    /** A transaction's description without the topics and groups the caller may not describe. */
    static io.strata.api.v1.TransactionDescription visible(io.strata.api.v1.TransactionDescription d,
                                                           Predicate<Need> may) {
        return d.toBuilder().clearPartitions().addAllPartitions(d.getPartitionsList().stream()
                        .filter(p -> may.test(Need.topic(DESCRIBE, p.getTopic()))).toList())
                .clearOffsets().addAllOffsets(d.getOffsetsList().stream().filter(o -> may.test(Need.topic(DESCRIBE,
                        o.getTopic())) && may.test(Need.group(DESCRIBE, o.getGroup()))).toList()).build();
    }

    @SuppressWarnings("unchecked")
    private static <R> void listing(MethodDescriptor<?, R> method, BiFunction<R, Predicate<Need>, R> filter) {
        RULES.put(method.getFullMethodName(), new Rule(r -> List.of(), null,
                (answer, may) -> filter.apply((R) answer, may), false));
    }
}
