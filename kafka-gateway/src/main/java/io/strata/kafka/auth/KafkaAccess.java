package io.strata.kafka.auth;

import static io.strata.metadata.security.AclOperation.ALTER;
import static io.strata.metadata.security.AclOperation.ALTER_GROUP;
import static io.strata.metadata.security.AclOperation.CONSUME;
import static io.strata.metadata.security.AclOperation.CREATE;
import static io.strata.metadata.security.AclOperation.DELETE;
import static io.strata.metadata.security.AclOperation.DESCRIBE;
import static io.strata.metadata.security.AclOperation.PRODUCE;

import io.strata.kafka.KafkaRequest;
import io.strata.kafka.cluster.TopicIds;
import io.strata.metadata.InputText;
import io.strata.metadata.security.AclOperation;
import io.strata.metadata.security.ResourceType;
import io.strata.security.Identity;
import io.strata.security.Need;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * What each Kafka API needs, read from its request, with the same operations as the gRPC services ({@code produce}
 * on the topics a Produce writes, {@code consume} on a group and its topics, ...), and the answers cut to what the
 * caller may describe (Metadata's topics, ListGroups, OffsetFetch, ListTransactions). A request that lacks a
 * permission is answered with its own error response (TOPIC_, GROUP_ or CLUSTER_AUTHORIZATION_FAILED) and never
 * reaches its API. Two read-only APIs answer each thing they are asked about on its own, as Kafka's brokers do: a
 * DescribeTransactions (the API refuses the ids before reading them) and a FindCoordinator of several keys; their
 * answers' refused items are audited here.
 */
public final class KafkaAccess {
    /** Kafka's answer to a request lacking {@code need}. */
    public static Errors error(Need need) {
        return switch (need.type()) {
            case TOPIC -> Errors.TOPIC_AUTHORIZATION_FAILED;
            case GROUP -> Errors.GROUP_AUTHORIZATION_FAILED;
            case CLUSTER -> Errors.CLUSTER_AUTHORIZATION_FAILED;
            case TRANSACTIONAL_ID -> Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        };
    }

    private final KafkaGuard guard;
    private final TopicIds topicIds;

    public KafkaAccess(KafkaGuard guard, TopicIds topicIds) {
        this.guard = guard;
        this.topicIds = topicIds;
    }

    /** The first need the request's caller lacks, or null when it may go on. */
    public CompletableFuture<Need> denied(KafkaRequest request) {
        Identity who = request.session().identity();
        return needs(request).thenApply(needs -> {
            for (Need n : needs) {
                if (!guard.allowed(who, n.operation(), n.type(), n.name())) {
                    guard.audit(who, request.session().clientAddress(), "Kafka " + request.header().apiKey().name,
                            n.resource(), "denied: " + n.operation().label());
                    return n;
                }
            }
            return null;
        });
    }

    /** Kafka's admin actions, audited with their outcome as the gRPC door's are (docs/security.md, "Audit"). */
    private static final java.util.Set<ApiKeys> ADMIN_ACTIONS = java.util.EnumSet.of(ApiKeys.CREATE_TOPICS,
            ApiKeys.DELETE_TOPICS, ApiKeys.CREATE_PARTITIONS, ApiKeys.ALTER_CONFIGS, ApiKeys.INCREMENTAL_ALTER_CONFIGS,
            ApiKeys.DELETE_RECORDS, ApiKeys.DELETE_GROUPS, ApiKeys.OFFSET_DELETE, ApiKeys.ALTER_CLIENT_QUOTAS,
            ApiKeys.CREATE_ACLS, ApiKeys.DELETE_ACLS, ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, ApiKeys.WRITE_TXN_MARKERS);

    /**
     * Whether {@link #audit} writes anything for this request: an admin action, or an OffsetCommit outside a group
     * generation. The latter is how {@code kafka-consumer-groups --reset-offsets} (the admin client's
     * alterConsumerGroupOffsets) moves a group; on the wire it is the same as a manually assigned consumer's commit,
     * so both are written (a group member's commits, the hot path, are not).
     */
    public boolean audits(KafkaRequest request) {
        ApiKeys key = request.header().apiKey();
        return ADMIN_ACTIONS.contains(key) || (key == ApiKeys.OFFSET_COMMIT
                && request.body().data() instanceof OffsetCommitRequestData d && outsideGeneration(d));
    }

    /** A commit by no member of a generation: the admin client's reset, or a manually assigned consumer's. */
    static boolean outsideGeneration(OffsetCommitRequestData d) {
        return d.generationIdOrMemberEpoch() < 0 && d.memberId().isEmpty();
    }

    /**
     * Writes an admin action that was let through to the audit log, one line for each thing it changes (each rule,
     * user, topic or group), with that thing's own outcome where the answer tells it ("ok" or the error), so a long
     * request cannot hide one change behind a line's bound. An OffsetCommit outside a generation (a group reset by
     * {@code kafka-consumer-groups --reset-offsets}) is one line for its group and one for each topic it moves.
     */
    public void audit(KafkaRequest request, ApiMessage answer, Throwable failure) {
        ApiKeys key = request.header().apiKey();
        ApiMessage data = request.body().data();
        if (!audits(request)) {
            return;
        }
        Identity who = request.session().identity() == null ? Identity.ANONYMOUS : request.session().identity();
        String address = request.session().clientAddress();
        String action = "Kafka " + key.name;
        if (failure != null || answer == null) {
            String outcome = "failed: " + (failure == null ? "no answer" : io.strata.kafka.KafkaErrors.describe(failure));
            needs(request).thenAccept(needs -> auditEach(who, address, action, needs, outcome));
            return;
        }
        if (answer instanceof org.apache.kafka.common.message.CreateAclsResponseData r
                && data instanceof org.apache.kafka.common.message.CreateAclsRequestData d) {
            int lines = Math.min(Math.min(d.creations().size(), r.results().size()),
                    io.strata.kafka.admin.AclApis.MAX_PER_REQUEST);
            for (int i = 0; i < lines; i++) {
                guard.audit(who, address, action, "acl " + rule(d.creations().get(i)), outcome(r.results().get(i).errorCode()));
            }
            pastCap(who, address, action, d.creations().size() - lines, "rules");
        } else if (answer instanceof org.apache.kafka.common.message.DeleteAclsResponseData r) {
            // Each rule removed (at most the request's bound), once however many filters matched it; the filters
            // that matched nothing or were refused, counted in one line each.
            java.util.Set<String> removed = new java.util.HashSet<>();
            java.util.Map<String, Integer> filters = new java.util.TreeMap<>();
            for (var filter : r.filterResults()) {
                if (filter.errorCode() != Errors.NONE.code() || filter.matchingAcls().isEmpty()) {
                    filters.merge(filter.errorCode() != Errors.NONE.code() ? outcome(filter.errorCode())
                            : "ok: none matched", 1, Integer::sum);
                }
                for (var m : filter.matchingAcls()) {
                    String rule = "acl " + bounded(org.apache.kafka.common.requests.DeleteAclsResponse.aclBinding(m)
                            .toString());
                    if (removed.add(rule)) {
                        guard.audit(who, address, action, rule, outcome(m.errorCode()));
                    }
                }
            }
            filters.forEach((outcome, count) -> guard.audit(who, address, action, count + " filter(s)", outcome));
        } else if (answer instanceof org.apache.kafka.common.message.AlterUserScramCredentialsResponseData r) {
            r.results().stream().limit(io.strata.kafka.admin.AclApis.MAX_PER_REQUEST).forEach(u -> guard.audit(who,
                    address, action, "user " + InputText.quoted(u.user()), outcome(u.errorCode())));
            pastCap(who, address, action, r.results().size() - io.strata.kafka.admin.AclApis.MAX_PER_REQUEST, "users");
        } else if (answer instanceof org.apache.kafka.common.message.OffsetCommitResponseData r
                && data instanceof OffsetCommitRequestData d) {
            auditReset(who, address, action, d, r);
        } else if (answer instanceof org.apache.kafka.common.message.WriteTxnMarkersResponseData r) {
            // kafka-transactions.sh abort: a line for each partition a marker named, with its own outcome.
            int lines = 0;
            int more = 0;
            for (var marker : r.markers()) {
                for (var t : marker.topics()) {
                    for (var p : t.partitions()) {
                        if (lines++ >= io.strata.kafka.admin.AclApis.MAX_PER_REQUEST) {
                            more++;
                            continue;
                        }
                        guard.audit(who, address, action, "transaction of producer id " + marker.producerId()
                                + " on topic " + InputText.quoted(t.name()) + " partition " + p.partitionIndex(),
                                outcome(p.errorCode()));
                    }
                }
            }
            pastCap(who, address, action, more, "partitions");
        } else {
            String outcome = outcome(new java.util.TreeSet<>(org.apache.kafka.common.requests.AbstractResponse
                    .parseResponse(key, org.apache.kafka.common.protocol.MessageUtil.toByteBufferAccessor(answer,
                            request.version()), request.version()).errorCounts().keySet()));
            needs(request).thenAccept(needs -> auditEach(who, address, action, needs, outcome));
        }
    }

    /** A line for each thing a request names (at most the bound, then one counting the rest), with one outcome. */
    private void auditEach(Identity who, String address, String action, List<Need> needs, String outcome) {
        List<String> resources = needs.stream().map(Need::resource).distinct().toList();
        int lines = Math.min(resources.size(), io.strata.kafka.admin.AclApis.MAX_PER_REQUEST);
        resources.subList(0, lines).forEach(res -> guard.audit(who, address, action, res, outcome));
        if (resources.size() > lines) {
            guard.audit(who, address, action, (resources.size() - lines) + " more", outcome);
        }
    }

    /** How long a connection's same reset of a group is written once (a manually assigned consumer's commits). */
    static final long RESET_REPEAT_MS = 60_000;
    /**
     * The resets last written, by a digest of the connection, principal, group, what it commits and its outcome
     * (a fixed 32 bytes, whatever the caller's names): bounded, the least recently seen forgotten first.
     */
    private final java.util.Map<java.nio.ByteBuffer, Long> resetsWritten = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(64, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(java.util.Map.Entry<java.nio.ByteBuffer, Long> eldest) {
                    return size() > 10_000;
                }
            });

    /** Whether this reset was written less than {@link #RESET_REPEAT_MS} ago (if not, it counts as written now). */
    private boolean writtenLately(String address, Identity who, OffsetCommitRequestData d, String outcome) {
        java.security.MessageDigest digest;
        try {
            digest = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JVM has it
        }
        java.util.function.Consumer<String> add = text -> {
            digest.update(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            digest.update((byte) 0);
        };
        add.accept(address);
        add.accept(who.principal());
        add.accept(d.groupId());
        add.accept(outcome);
        for (var t : d.topics()) {
            add.accept(t.name());
            for (var p : t.partitions()) {
                add.accept(p.partitionIndex() + "@" + p.committedOffset());
            }
        }
        java.nio.ByteBuffer key = java.nio.ByteBuffer.wrap(digest.digest());
        long now = System.currentTimeMillis();
        boolean[] lately = new boolean[1];
        resetsWritten.compute(key, (k, last) -> {
            lately[0] = last != null && now - last < RESET_REPEAT_MS;
            return lately[0] ? last : now;
        });
        return lately[0];
    }

    /**
     * An OffsetCommit outside a generation: one line for the group and one for each topic (at most the bound),
     * each with its own outcome. A connection that repeats the very same commit (a manually assigned consumer's
     * auto-commit with nothing read since, every few seconds) is written once a minute; any other (other offsets,
     * other partitions, a new connection such as each run of kafka-consumer-groups) always.
     */
    private void auditReset(Identity who, String address, String action, OffsetCommitRequestData d,
                            org.apache.kafka.common.message.OffsetCommitResponseData r) {
        java.util.Map<String, java.util.Set<Errors>> byTopic = new java.util.LinkedHashMap<>();
        java.util.Set<Errors> all = new java.util.TreeSet<>();
        for (var t : r.topics()) {
            for (var p : t.partitions()) {
                Errors e = Errors.forCode(p.errorCode());
                byTopic.computeIfAbsent(t.name(), k -> new java.util.TreeSet<>()).add(e);
                all.add(e);
            }
        }
        String groupOutcome = outcome(all);
        if (writtenLately(address, who, d, groupOutcome)) {
            return;
        }
        guard.audit(who, address, action, "group " + InputText.quoted(d.groupId()), groupOutcome);
        List<String> topics = new ArrayList<>(byTopic.keySet());
        int lines = Math.min(topics.size(), io.strata.kafka.admin.AclApis.MAX_PER_REQUEST);
        topics.subList(0, lines).forEach(t -> guard.audit(who, address, action, "topic " + InputText.quoted(t),
                outcome(byTopic.get(t))));
        if (topics.size() > lines) {
            guard.audit(who, address, action, (topics.size() - lines) + " more topics", groupOutcome);
        }
    }

    /** "ok", or the errors (other than none) the answer gave. */
    private static String outcome(java.util.Set<Errors> errors) {
        List<String> failed = errors.stream().filter(e -> e != Errors.NONE).map(Errors::name).toList();
        return failed.isEmpty() ? "ok" : "failed: " + String.join(", ", failed);
    }

    /** One line for what a request named past the bound (each was refused unchanged). */
    private void pastCap(Identity who, String address, String action, int more, String what) {
        if (more > 0) {
            guard.audit(who, address, action, more + " more " + what, "failed: " + Errors.POLICY_VIOLATION.name());
        }
    }

    private static String outcome(short errorCode) {
        return errorCode == Errors.NONE.code() ? "ok" : "failed: " + Errors.forCode(errorCode).name();
    }

    /** A rule asked for, as Kafka writes it; one that is no rule says so. */
    private static String rule(org.apache.kafka.common.message.CreateAclsRequestData.AclCreation creation) {
        try {
            return bounded(org.apache.kafka.common.requests.CreateAclsRequest.aclBinding(creation).toString());
        } catch (IllegalArgumentException e) {
            return "that is no rule (" + bounded(String.valueOf(e.getMessage())) + ")";
        }
    }

    /** A caller's text cut to a line's worth (an audit line never echoes a caller's megabytes). */
    private static String bounded(String text) {
        return text.length() <= 512 ? text : text.substring(0, 512) + "… (" + text.length() + " characters)";
    }

    private java.util.function.Predicate<Need> may(Identity who) {
        return n -> guard.allowed(who, n.operation(), n.type(), n.name());
    }

    /** The things of a request that were refused alone, audited as a refused request is (at most 100 lines). */
    private void deniedItems(KafkaRequest request, List<Need> denied) {
        Identity who = request.session().identity();
        String address = request.session().clientAddress();
        String action = "Kafka " + request.header().apiKey().name;
        List<Need> distinct = denied.stream().distinct().toList();
        int lines = Math.min(distinct.size(), io.strata.kafka.admin.AclApis.MAX_PER_REQUEST);
        distinct.subList(0, lines).forEach(n -> guard.audit(who, address, action, n.resource(),
                "denied: " + n.operation().label()));
        if (distinct.size() > lines) {
            guard.audit(who, address, action, (distinct.size() - lines) + " more", "denied: describe");
        }
    }

    /**
     * DescribeTransactions as the caller may see it: an id it may not describe is refused alone (its state replaced
     * by TRANSACTIONAL_ID_AUTHORIZATION_FAILED), and an open transaction's topics it may not describe are left out,
     * as Kafka's brokers do. Answers the ids refused.
     */
    static List<Need> cutTransactions(org.apache.kafka.common.message.DescribeTransactionsResponseData answer,
                                      java.util.function.Predicate<Need> may) {
        List<Need> denied = new ArrayList<>();
        var states = answer.transactionStates();
        for (int i = 0; i < states.size(); i++) {
            var s = states.get(i);
            Need need = Need.transactionalId(DESCRIBE, s.transactionalId());
            if (!may.test(need)) {
                denied.add(need);
                states.set(i, new org.apache.kafka.common.message.DescribeTransactionsResponseData.TransactionState()
                        .setTransactionalId(s.transactionalId()).setTransactionState("").setTransactionStartTimeMs(-1)
                        .setProducerId(-1).setProducerEpoch((short) -1)
                        .setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
            } else {
                s.topics().removeIf(t -> !may.test(Need.topic(DESCRIBE, t.topic())));
            }
        }
        return denied;
    }

    /** A FindCoordinator of several keys: each key the caller may not describe refused alone. */
    static List<Need> cutCoordinators(org.apache.kafka.common.message.FindCoordinatorResponseData answer, byte keyType,
                                      java.util.function.Predicate<Need> may) {
        List<Need> denied = new ArrayList<>();
        for (var c : answer.coordinators()) {
            Need need = keyType == 1 ? Need.transactionalId(DESCRIBE, c.key()) : Need.group(DESCRIBE, c.key());
            if (!may.test(need)) {
                denied.add(need);
                c.setErrorCode(error(need).code()).setErrorMessage(null).setNodeId(-1).setHost("").setPort(-1);
            }
        }
        return denied;
    }

    /** The answer with what the caller may not describe left out. */
    public ApiMessage filter(KafkaRequest request, ApiMessage answer) {
        Identity who = request.session().identity();
        if (answer instanceof MetadataResponseData m) {
            MetadataRequestData asked = (MetadataRequestData) request.body().data();
            // As MetadataApi reads it: no list, or an empty one at v0, asks for every topic.
            boolean all = asked.topics() == null || (request.version() == 0 && asked.topics().isEmpty());
            java.util.Set<String> namedInRequest = new java.util.HashSet<>();
            if (asked.topics() != null) {
                asked.topics().forEach(t -> {
                    if (t.name() != null) {
                        namedInRequest.add(t.name());
                    }
                });
            }
            var kept = new MetadataResponseData.MetadataResponseTopicCollection();
            for (MetadataResponseData.MetadataResponseTopic t : m.topics()) {
                if (t.name() != null && guard.allowed(who, DESCRIBE, ResourceType.TOPIC, t.name())) {
                    kept.add(t.duplicate());
                } else if (t.name() == null) {
                    kept.add(t.duplicate()); // an id that names no topic: its own error already
                } else if (!all) {
                    // Asked for: refused as Kafka's brokers do, without naming a topic asked for by id only.
                    boolean byName = namedInRequest.contains(t.name());
                    kept.add(new MetadataResponseData.MetadataResponseTopic().setName(byName ? t.name() : null)
                            .setTopicId(byName ? Uuid.ZERO_UUID : t.topicId())
                            .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
                }
            }
            m.setTopics(kept);
        } else if (answer instanceof org.apache.kafka.common.message.FetchResponseData f) {
            // A fetch session carries its partitions from request to request (KIP-227): what the answer holds is
            // checked too, so a session outlives neither its ACL nor its owner's right to what it reads.
            for (var t : f.responses()) {
                String name = t.topic() != null && !t.topic().isEmpty() ? t.topic()
                        : topicIds.nameOf(t.topicId()).getNow(null);
                if (name == null || !guard.allowed(who, CONSUME, ResourceType.TOPIC, name)) {
                    return request.body().getErrorResponse(0, Errors.TOPIC_AUTHORIZATION_FAILED.exception()).data();
                }
            }
        } else if (answer instanceof org.apache.kafka.common.message.DescribeTransactionsResponseData d) {
            deniedItems(request, cutTransactions(d, may(who)));
        } else if (answer instanceof org.apache.kafka.common.message.FindCoordinatorResponseData f
                && request.body().data() instanceof FindCoordinatorRequestData asked
                && (asked.keyType() == 0 || asked.keyType() == 1)) {
            deniedItems(request, cutCoordinators(f, asked.keyType(), may(who)));
        } else if (answer instanceof org.apache.kafka.common.message.ListTransactionsResponseData l) {
            l.setTransactionStates(new ArrayList<>(l.transactionStates().stream().filter(t ->
                    guard.allowed(who, DESCRIBE, ResourceType.TRANSACTIONAL_ID, t.transactionalId())).toList()));
        } else if (answer instanceof ListGroupsResponseData l) {
            l.setGroups(new ArrayList<>(l.groups().stream()
                    .filter(g -> guard.allowed(who, DESCRIBE, ResourceType.GROUP, g.groupId())).toList()));
        } else if (answer instanceof OffsetFetchResponseData o) {
            o.setTopics(new ArrayList<>(o.topics().stream()
                    .filter(t -> guard.allowed(who, DESCRIBE, ResourceType.TOPIC, t.name())).toList()));
            for (OffsetFetchResponseData.OffsetFetchResponseGroup g : o.groups()) {
                g.setTopics(new ArrayList<>(g.topics().stream()
                        .filter(t -> guard.allowed(who, DESCRIBE, ResourceType.TOPIC, t.name())).toList()));
            }
        }
        return answer;
    }

    private CompletableFuture<List<Need>> needs(KafkaRequest request) {
        ApiMessage data = request.body().data();
        List<Need> needs = new ArrayList<>();
        List<CompletableFuture<Void>> lookups = new ArrayList<>();
        ApiKeys key = request.header().apiKey();
        switch (key) {
            case PRODUCE -> {
                ProduceRequestData d = (ProduceRequestData) data;
                if (d.transactionalId() != null) {
                    needs.add(Need.transactionalId(PRODUCE, d.transactionalId()));
                }
                d.topicData().forEach(t -> topic(needs, lookups, PRODUCE, t.name(), t.topicId()));
            }
            case INIT_PRODUCER_ID -> {
                String id = ((org.apache.kafka.common.message.InitProducerIdRequestData) data).transactionalId();
                if (id != null) {
                    needs.add(Need.transactionalId(PRODUCE, id));
                }
            }
            case ADD_PARTITIONS_TO_TXN -> {
                var d = (org.apache.kafka.common.message.AddPartitionsToTxnRequestData) data;
                needs.add(Need.transactionalId(PRODUCE, d.v3AndBelowTransactionalId()));
                d.v3AndBelowTopics().forEach(t -> needs.add(Need.topic(PRODUCE, t.name())));
            }
            case END_TXN -> needs.add(Need.transactionalId(PRODUCE,
                    ((org.apache.kafka.common.message.EndTxnRequestData) data).transactionalId()));
            case ADD_OFFSETS_TO_TXN -> {
                var d = (org.apache.kafka.common.message.AddOffsetsToTxnRequestData) data;
                needs.add(Need.transactionalId(PRODUCE, d.transactionalId()));
                needs.add(Need.group(CONSUME, d.groupId()));
            }
            case TXN_OFFSET_COMMIT -> {
                var d = (org.apache.kafka.common.message.TxnOffsetCommitRequestData) data;
                needs.add(Need.transactionalId(PRODUCE, d.transactionalId()));
                needs.add(Need.group(CONSUME, d.groupId()));
                d.topics().forEach(t -> needs.add(Need.topic(CONSUME, t.name())));
            }
            case FETCH -> ((FetchRequestData) data).topics().forEach(t ->
                    topic(needs, lookups, CONSUME, t.topic(), t.topicId()));
            case LIST_OFFSETS -> ((ListOffsetsRequestData) data).topics().forEach(t ->
                    needs.add(Need.topic(DESCRIBE, t.name())));
            // Kafka's brokers ask Read on each topic: a partition's producers are what its readers may see.
            case DESCRIBE_PRODUCERS -> ((org.apache.kafka.common.message.DescribeProducersRequestData) data).topics()
                    .forEach(t -> needs.add(Need.topic(CONSUME, t.name())));
            case CREATE_TOPICS -> ((CreateTopicsRequestData) data).topics().forEach(t ->
                    needs.add(Need.topic(CREATE, t.name())));
            case DELETE_TOPICS -> {
                DeleteTopicsRequestData d = (DeleteTopicsRequestData) data;
                d.topicNames().forEach(n -> needs.add(Need.topic(DELETE, n)));
                d.topics().forEach(t -> topic(needs, lookups, DELETE, t.name(), t.topicId()));
            }
            case DELETE_RECORDS -> ((org.apache.kafka.common.message.DeleteRecordsRequestData) data).topics()
                    .forEach(t -> needs.add(Need.topic(DELETE, t.name())));
            case CREATE_PARTITIONS -> ((CreatePartitionsRequestData) data).topics().forEach(t ->
                    needs.add(Need.topic(ALTER, t.name())));
            case DESCRIBE_CONFIGS -> ((DescribeConfigsRequestData) data).resources().forEach(r ->
                    config(needs, DESCRIBE, r.resourceType(), r.resourceName()));
            case ALTER_CONFIGS -> ((AlterConfigsRequestData) data).resources().forEach(r ->
                    config(needs, ALTER, r.resourceType(), r.resourceName()));
            case INCREMENTAL_ALTER_CONFIGS -> ((IncrementalAlterConfigsRequestData) data).resources().forEach(r ->
                    config(needs, ALTER, r.resourceType(), r.resourceName()));
            case FIND_COORDINATOR -> {
                // One key (before version 4) is the request's need; of several, each key is answered on its own.
                FindCoordinatorRequestData d = (FindCoordinatorRequestData) data;
                if (d.coordinatorKeys().isEmpty() && d.keyType() == 0) {
                    needs.add(Need.group(DESCRIBE, d.key()));
                } else if (d.coordinatorKeys().isEmpty() && d.keyType() == 1) {
                    needs.add(Need.transactionalId(DESCRIBE, d.key()));
                }
            }
            case JOIN_GROUP -> needs.add(Need.group(CONSUME, ((JoinGroupRequestData) data).groupId()));
            case SYNC_GROUP -> {
                SyncGroupRequestData d = (SyncGroupRequestData) data;
                needs.add(Need.group(CONSUME, d.groupId()));
                // A leader's assignment becomes the members' partition leases: it hands out only topics its
                // principal may see (as Kafka's leader needs their metadata to assign them); reading them is
                // checked on each member's fetches and commits.
                assignedTopics(d).forEach(t -> needs.add(Need.topic(DESCRIBE, t)));
            }
            case HEARTBEAT -> needs.add(Need.group(CONSUME, ((HeartbeatRequestData) data).groupId()));
            case LEAVE_GROUP -> needs.add(Need.group(CONSUME, ((LeaveGroupRequestData) data).groupId()));
            case CONSUMER_GROUP_HEARTBEAT -> {
                ConsumerGroupHeartbeatRequestData d = (ConsumerGroupHeartbeatRequestData) data;
                needs.add(Need.group(CONSUME, d.groupId()));
                if (d.subscribedTopicNames() != null) {
                    d.subscribedTopicNames().forEach(t -> needs.add(Need.topic(CONSUME, t)));
                }
            }
            case OFFSET_COMMIT -> {
                OffsetCommitRequestData d = (OffsetCommitRequestData) data;
                needs.add(Need.group(CONSUME, d.groupId()));
                d.topics().forEach(t -> needs.add(Need.topic(CONSUME, t.name())));
            }
            case OFFSET_FETCH -> {
                OffsetFetchRequestData d = (OffsetFetchRequestData) data;
                if (d.groups().isEmpty()) {
                    needs.add(Need.group(DESCRIBE, d.groupId()));
                }
                d.groups().forEach(g -> needs.add(Need.group(DESCRIBE, g.groupId())));
            }
            case DESCRIBE_GROUPS -> ((DescribeGroupsRequestData) data).groups().forEach(g ->
                    needs.add(Need.group(DESCRIBE, g)));
            case DELETE_GROUPS -> ((DeleteGroupsRequestData) data).groupsNames().forEach(g ->
                    needs.add(Need.group(DELETE, g)));
            case OFFSET_DELETE -> {
                OffsetDeleteRequestData d = (OffsetDeleteRequestData) data;
                needs.add(Need.group(ALTER_GROUP, d.groupId()));
                d.topics().forEach(t -> needs.add(Need.topic(DESCRIBE, t.name())));
            }
            case DESCRIBE_LOG_DIRS -> needs.add(new Need(DESCRIBE, ResourceType.CLUSTER, ""));
            // Kafka's brokers ask ClusterAction: ending another producer's transaction is the cluster's operators'.
            case WRITE_TXN_MARKERS -> needs.add(new Need(AclOperation.ADMIN, ResourceType.CLUSTER, ""));
            case METADATA, LIST_GROUPS, LIST_TRANSACTIONS, DESCRIBE_TRANSACTIONS, DESCRIBE_CLUSTER, API_VERSIONS,
                 SASL_HANDSHAKE, SASL_AUTHENTICATE -> {
                // nothing beyond signing in; Metadata and the listings are cut to what may be described, and each id
                // DescribeTransactions asks for is answered on its own (refused alone, as Kafka's brokers do)
            }
            // The cluster's rules and users are for its administrators, as the gRPC door's calls on them are.
            case CREATE_ACLS, DESCRIBE_ACLS, DELETE_ACLS, DESCRIBE_USER_SCRAM_CREDENTIALS, ALTER_USER_SCRAM_CREDENTIALS ->
                    needs.add(new Need(AclOperation.ADMIN, ResourceType.CLUSTER, ""));
            default -> needs.add(new Need(AclOperation.ADMIN, ResourceType.CLUSTER, "")); // an API without a rule
        }
        return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new)).thenApply(x -> {
            synchronized (needs) {
                return List.copyOf(needs);
            }
        });
    }

    /** A topic named, or given by id (resolved; an unknown id names nothing to check, and its API says so). */
    private void topic(List<Need> needs, List<CompletableFuture<Void>> lookups, AclOperation op, String name, Uuid id) {
        if (name != null && !name.isEmpty()) {
            needs.add(Need.topic(op, name));
        } else if (id != null && !id.equals(Uuid.ZERO_UUID)) {
            lookups.add(topicIds.nameOf(id).thenAccept(resolved -> {
                if (resolved != null) {
                    synchronized (needs) {
                        needs.add(Need.topic(op, resolved));
                    }
                }
            }));
        }
    }

    /** Topic configs need the operation on the topic; broker configs, on the cluster. */
    private static void config(List<Need> needs, AclOperation op, byte resourceType, String name) {
        if (resourceType == org.apache.kafka.common.config.ConfigResource.Type.TOPIC.id()) {
            needs.add(Need.topic(op, name));
        } else {
            needs.add(new Need(op == DESCRIBE ? DESCRIBE : AclOperation.ADMIN, ResourceType.CLUSTER, ""));
        }
    }

    /** The topics a SyncGroup's assignments of Kafka's consumer protocol name (none for other protocols). */
    static java.util.Set<String> assignedTopics(SyncGroupRequestData d) {
        java.util.Set<String> topics = new java.util.TreeSet<>();
        if (d.protocolType() != null && !d.protocolType().equals(
                org.apache.kafka.clients.consumer.internals.ConsumerProtocol.PROTOCOL_TYPE)) {
            return topics;
        }
        for (SyncGroupRequestData.SyncGroupRequestAssignment a : d.assignments()) {
            if (a.assignment() == null || a.assignment().length == 0) {
                continue;
            }
            try {
                org.apache.kafka.clients.consumer.internals.ConsumerProtocol.deserializeAssignment(
                        java.nio.ByteBuffer.wrap(a.assignment())).partitions().forEach(tp -> topics.add(tp.topic()));
            } catch (RuntimeException notConsumerAssignment) {
                // bytes of another protocol: the group coordinator reads no partitions from them either
            }
        }
        return topics;
    }
}
