package io.strata.kafka.txn;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.cluster.Broker;
import io.strata.kafka.cluster.Brokers;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.Topic;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.TxnPartition;
import io.strata.transactions.coordinator.TransactionCoordinator;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * What {@code kafka-transactions.sh list} and {@code describe} ask (docs/kafka.md): ListTransactions and
 * DescribeTransactions, read from the transactional ids' records as {@code strata transactions list|describe}
 * reads them. Kafka's admin client asks every broker for its list and puts the answers together, so each node
 * lists only the ids it coordinates (FindCoordinator's answer for them): every id once, under the node a producer
 * with it talks to. A describe is answered by whichever node is asked, the records being in the metadata store.
 * Which ids a principal sees is cut to those it may describe, by the door's access check.
 */
public final class TransactionListingApis {
    /** Kafka's names of a transaction's states (its clients' {@code TransactionState}). */
    static final String EMPTY = "Empty";
    static final String ONGOING = "Ongoing";
    static final String PREPARE_ABORT = "PrepareAbort";
    static final String COMPLETE_COMMIT = "CompleteCommit";
    static final String COMPLETE_ABORT = "CompleteAbort";
    /** States a filter may name: Kafka's, of which Strata's ids are only ever in these five. */
    private static final Set<String> KNOWN_STATES = Set.of(EMPTY, ONGOING, "PrepareCommit", PREPARE_ABORT,
            COMPLETE_COMMIT, COMPLETE_ABORT, "Dead", "PrepareEpochFence");

    /** Ids one DescribeTransactions reads at most; those past it are answered POLICY_VIOLATION, unread. */
    static final int MAX_DESCRIBED = 1_000;

    private final TransactionCoordinator coordinator;
    private final MetadataStore metadata;
    private final Brokers brokers;
    private final Clock clock;
    private final io.strata.kafka.auth.KafkaGuard guard;

    public TransactionListingApis(TransactionCoordinator coordinator, MetadataStore metadata, Brokers brokers,
                                  Clock clock, io.strata.kafka.auth.KafkaGuard guard) {
        this.coordinator = coordinator;
        this.metadata = metadata;
        this.brokers = brokers;
        this.clock = clock;
        this.guard = guard;
    }

    public List<KafkaApi> all() {
        // ListTransactions 2 adds a pattern on the ids, not offered; the admin client sends version 1 when no
        // pattern is given.
        return List.of(KafkaApi.of(ApiKeys.LIST_TRANSACTIONS, 0, 1, this::list),
                KafkaApi.of(ApiKeys.DESCRIBE_TRANSACTIONS, 0, 0, this::describe));
    }

    /** Kafka's state of a transactional id: its open transaction's, or how its last one ended. */
    static String kafkaState(TransactionRecord r) {
        return switch (r.state()) {
            case ONGOING -> ONGOING;
            case PREPARE_ABORT -> PREPARE_ABORT;
            case READY -> switch (r.lastOutcome()) {
                case NONE -> EMPTY;
                case COMMITTED -> COMPLETE_COMMIT;
                case ABORTED -> COMPLETE_ABORT;
            };
        };
    }

    /**
     * Whether a listing with these filters shows the id. A duration asks for transactions running longer than it:
     * an id with none open is not one.
     */
    static boolean listed(TransactionRecord r, Set<String> states, Set<Long> producerIds, long durationMs, long now) {
        if (!states.isEmpty() && !states.contains(kafkaState(r))) {
            return false;
        }
        // The id's producer, or the one its open transaction's records carry (DescribeProducers shows that one,
        // and find-hanging looks it up here): they differ once the id moved to a new producer id.
        if (!producerIds.isEmpty() && !producerIds.contains(r.producerId()) && !producerIds.contains(r.txnProducerId())) {
            return false;
        }
        return durationMs < 0 || (r.state() != TransactionRecord.State.READY && now - r.startedAtMs() > durationMs);
    }

    private CompletableFuture<ApiMessage> list(KafkaRequest request) {
        ListTransactionsRequestData data = request.data();
        ListTransactionsResponseData response = new ListTransactionsResponseData().setErrorCode(Errors.NONE.code());
        List<String> unknown = data.stateFilters().stream().filter(s -> !KNOWN_STATES.contains(s)).toList();
        response.setUnknownStateFilters(new ArrayList<>(unknown));
        Set<String> states = Set.copyOf(data.stateFilters());
        Set<Long> producerIds = Set.copyOf(data.producerIdFilters());
        long duration = request.version() >= 1 ? data.durationFilter() : -1;
        Broker self = brokers.self();
        return coordinator.list().handle((records, failure) -> {
            // Both retried by the admin client: the store out of reach, or this node not yet among the brokers it
            // ranks (it would list every id, which the others list too).
            if (failure != null) {
                return response.setErrorCode(Errors.COORDINATOR_LOAD_IN_PROGRESS.code());
            }
            long now = clock.millis();
            for (TransactionRecord r : records) {
                Broker c = brokers.coordinator(r.transactionalId());
                if (c == null) {
                    response.transactionStates().clear();
                    return response.setErrorCode(Errors.COORDINATOR_LOAD_IN_PROGRESS.code());
                }
                if (c.id() == self.id() && listed(r, states, producerIds, duration, now)) {
                    response.transactionStates().add(new ListTransactionsResponseData.TransactionState()
                            .setTransactionalId(r.transactionalId()).setProducerId(r.producerId())
                            .setTransactionState(kafkaState(r)));
                }
            }
            return response;
        });
    }

    @SuppressWarnings("unchecked")
    private CompletableFuture<ApiMessage> describe(KafkaRequest request) {
        DescribeTransactionsRequestData data = request.data();
        // One answer per id asked, in the order asked (an id asked twice is answered twice, as Kafka does); each
        // its own: an id whose record cannot be read fails alone.
        Map<String, CompletableFuture<DescribeTransactionsResponseData.TransactionState>> answers = new LinkedHashMap<>();
        io.strata.security.Identity who = request.session().identity();
        // The topics' names, read once a request and only when an open transaction needs them.
        CompletableFuture<Map<Long, String>>[] names = new CompletableFuture[1];
        java.util.function.Supplier<CompletableFuture<Map<Long, String>>> topicNames = () -> {
            synchronized (names) {
                if (names[0] == null) {
                    names[0] = metadata.listTopics().thenApply(TransactionListingApis::byId);
                }
                return names[0];
            }
        };
        for (String id : data.transactionalIds()) {
            if (answers.containsKey(id)) {
                continue;
            }
            if (guard.required() && !guard.allowed(who, io.strata.metadata.security.AclOperation.DESCRIBE,
                    io.strata.metadata.security.ResourceType.TRANSACTIONAL_ID, id)) {
                // Refused before anything is read of it, as Kafka's brokers do (the door's check audits it).
                answers.put(id, CompletableFuture.completedFuture(failed(id, Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)));
            } else if (answers.size() >= MAX_DESCRIBED) {
                answers.put(id, CompletableFuture.completedFuture(failed(id, Errors.POLICY_VIOLATION)));
            } else if (!io.strata.transactions.Transactions.validId(id)) {
                answers.put(id, CompletableFuture.completedFuture(failed(id, Errors.INVALID_REQUEST)));
            } else {
                answers.computeIfAbsent(id, k -> coordinator.describe(k).thenCompose(found -> found.isEmpty()
                                ? CompletableFuture.completedFuture(failed(k, Errors.TRANSACTIONAL_ID_NOT_FOUND))
                                : found.get().state() == TransactionRecord.State.READY
                                ? CompletableFuture.completedFuture(described(found.get(), Map.of()))
                                : topicNames.get().thenApply(t -> described(found.get(), t)))
                        .exceptionally(failure -> failed(k, loadError(failure))));
            }
        }
        return CompletableFuture.allOf(answers.values().toArray(CompletableFuture[]::new)).thenApply(v -> {
            DescribeTransactionsResponseData response = new DescribeTransactionsResponseData();
            for (String id : data.transactionalIds()) {
                response.transactionStates().add(answers.get(id).join().duplicate());
            }
            return response;
        });
    }

    static DescribeTransactionsResponseData.TransactionState described(TransactionRecord r, Map<Long, String> topics) {
        boolean open = r.state() != TransactionRecord.State.READY;
        DescribeTransactionsResponseData.TransactionState out = new DescribeTransactionsResponseData.TransactionState()
                .setErrorCode(Errors.NONE.code()).setTransactionalId(r.transactionalId())
                .setTransactionState(kafkaState(r)).setTransactionTimeoutMs((int) Math.min(Integer.MAX_VALUE,
                        r.timeoutMs())).setTransactionStartTimeMs(open ? r.startedAtMs() : -1)
                .setProducerId(r.producerId()).setProducerEpoch((short) r.producerEpoch());
        if (!open) {
            return out; // a finished transaction's partitions are no longer part of anything
        }
        Map<String, List<Integer>> partitions = new LinkedHashMap<>();
        for (TxnPartition p : r.partitions()) {
            // A topic deleted since the transaction added it has no name left to give.
            String name = topics.get(p.topicId());
            if (name != null) {
                partitions.computeIfAbsent(name, k -> new ArrayList<>()).add(p.partition());
            }
        }
        partitions.forEach((topic, list) -> out.topics().add(
                new DescribeTransactionsResponseData.TopicData().setTopic(topic).setPartitions(list)));
        return out;
    }

    /**
     * A record that does not decode is an error of its own, asked again in vain; anything else (the store out of
     * reach) is worth the admin client's retries.
     */
    static Errors loadError(Throwable failure) {
        Throwable t = io.strata.kafka.KafkaErrors.unwrap(failure);
        return t instanceof IllegalArgumentException || t instanceof IllegalStateException
                || t instanceof io.strata.transactions.TransactionException
                ? Errors.UNKNOWN_SERVER_ERROR : Errors.COORDINATOR_LOAD_IN_PROGRESS;
    }

    private static DescribeTransactionsResponseData.TransactionState failed(String id, Errors error) {
        return new DescribeTransactionsResponseData.TransactionState().setTransactionalId(id)
                .setErrorCode(error.code()).setTransactionState("").setTransactionStartTimeMs(-1).setProducerId(-1)
                .setProducerEpoch((short) -1);
    }

    private static Map<Long, String> byId(List<Topic> topics) {
        Map<Long, String> names = new HashMap<>();
        topics.forEach(t -> names.put(t.topicId(), t.name()));
        return names;
    }

}
