package io.strata.kafka.admin;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaRequest;
import io.strata.metadata.security.Quota;
import io.strata.metadata.security.SecurityStore;
import java.util.ArrayList;
import java.util.List;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.message.AlterClientQuotasResponseData;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeClientQuotas and AlterClientQuotas ({@code kafka-configs --entity-type users}): the cluster's quotas as
 * Kafka's tools see them. A user entity is the principal User:NAME, the default user Strata's {@code <default>};
 * {@code producer_byte_rate} is the produce bytes per second, {@code consumer_byte_rate} the fetch bytes. Strata's
 * requests per second (Kafka's {@code request_percentage} measures something else) and client-id quotas have no
 * Kafka form: altering them is refused, saying so. Both need admin on the cluster (KafkaAccess's rule for APIs
 * without one of their own).
 */
public final class ClientQuotasApis {
    static final String USER = "user";
    static final String PRODUCE = "producer_byte_rate";
    static final String FETCH = "consumer_byte_rate";
    private final SecurityStore store;

    public ClientQuotasApis(SecurityStore store) {
        this.store = store;
    }

    public List<KafkaApi> all() {
        return List.of(KafkaApi.of(ApiKeys.DESCRIBE_CLIENT_QUOTAS, 0, 1, this::describe),
                KafkaApi.of(ApiKeys.ALTER_CLIENT_QUOTAS, 0, 1, this::alter));
    }

    private CompletableFuture<ApiMessage> describe(KafkaRequest request) {
        DescribeClientQuotasRequestData data = (DescribeClientQuotasRequestData) request.body().data();
        return store.read().thenApply(snapshot -> {
            DescribeClientQuotasResponseData answer = new DescribeClientQuotasResponseData()
                    .setErrorCode(Errors.NONE.code()).setEntries(new ArrayList<>());
            for (Quota q : snapshot.quotas().values()) {
                if (!matches(q.entity(), data) || (q.produceBytesPerSecond() == 0 && q.fetchBytesPerSecond() == 0)) {
                    continue;
                }
                var entry = new DescribeClientQuotasResponseData.EntryData().setEntity(List.of(
                        new DescribeClientQuotasResponseData.EntityData().setEntityType(USER)
                                .setEntityName(userName(q.entity()))));
                if (q.produceBytesPerSecond() > 0) {
                    entry.values().add(new DescribeClientQuotasResponseData.ValueData().setKey(PRODUCE)
                            .setValue(q.produceBytesPerSecond()));
                }
                if (q.fetchBytesPerSecond() > 0) {
                    entry.values().add(new DescribeClientQuotasResponseData.ValueData().setKey(FETCH)
                            .setValue(q.fetchBytesPerSecond()));
                }
                answer.entries().add(entry);
            }
            return answer;
        });
    }

    /** Whether a user quota answers the filter (only user components match anything: client-ids have none). */
    private static boolean matches(String entity, DescribeClientQuotasRequestData filter) {
        for (DescribeClientQuotasRequestData.ComponentData c : filter.components()) {
            if (!USER.equals(c.entityType())) {
                return false;
            }
            switch (c.matchType()) {
                case 0 -> { // exact
                    if (c.match() == null || !entity.equals(io.strata.metadata.security.Principals.user(c.match()))) {
                        return false;
                    }
                }
                case 1 -> { // the default
                    if (!Quota.DEFAULT.equals(entity)) {
                        return false;
                    }
                }
                default -> {
                    if (Quota.DEFAULT.equals(entity)) {
                        return false; // "any specified" names users, not the default
                    }
                }
            }
        }
        return true;
    }

    private static String userName(String entity) {
        return Quota.DEFAULT.equals(entity) ? null
                : entity.substring(io.strata.metadata.security.Principals.USER.length());
    }

    private CompletableFuture<ApiMessage> alter(KafkaRequest request) {
        AlterClientQuotasRequestData data = (AlterClientQuotasRequestData) request.body().data();
        AlterClientQuotasResponseData answer = new AlterClientQuotasResponseData().setEntries(new ArrayList<>());
        CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
        for (AlterClientQuotasRequestData.EntryData entry : data.entries()) {
            var result = new AlterClientQuotasResponseData.EntryData().setEntity(entry.entity().stream().map(e ->
                    new AlterClientQuotasResponseData.EntityData().setEntityType(e.entityType())
                            .setEntityName(e.entityName())).toList());
            answer.entries().add(result);
            String entity;
            try {
                entity = entity(entry);
            } catch (IllegalArgumentException e) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(e.getMessage());
                continue;
            }
            // One entry after the other: two entries for one user apply in order.
            done = done.thenCompose(x -> apply(entity, entry.ops(), data.validateOnly()).handle((v, failure) -> {
                if (failure != null) {
                    Throwable cause = failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                            ? c.getCause() : failure;
                    // A full store, or a quota another writer kept changing (worth asking again), as the ACL APIs say it.
                    result.setErrorCode((cause instanceof IllegalArgumentException ? Errors.INVALID_REQUEST
                            : AclApis.error(cause)).code()).setErrorMessage(cause.getMessage());
                }
                return null;
            }));
        }
        return done.thenApply(x -> answer);
    }

    private static String entity(AlterClientQuotasRequestData.EntryData entry) {
        if (entry.entity().size() != 1 || !USER.equals(entry.entity().get(0).entityType())) {
            throw new IllegalArgumentException("Strata keeps quotas per user only (strata quotas)");
        }
        String name = entry.entity().get(0).entityName();
        return name == null ? Quota.DEFAULT : Quota.requireEntity(io.strata.metadata.security.Principals.user(name));
    }

    private CompletableFuture<Void> apply(String entity, List<AlterClientQuotasRequestData.OpData> ops,
                                          boolean validateOnly) {
        return store.read().thenCompose(snapshot -> {
            Quota now = snapshot.quotas().get(entity);
            long produce = now == null ? 0 : now.produceBytesPerSecond();
            long fetch = now == null ? 0 : now.fetchBytesPerSecond();
            long requests = now == null ? 0 : now.requestsPerSecond();
            for (AlterClientQuotasRequestData.OpData op : ops) {
                long value = op.remove() ? 0 : rate(op);
                switch (op.key()) {
                    case PRODUCE -> produce = value;
                    case FETCH -> fetch = value;
                    default -> throw new IllegalArgumentException("Strata has no quota " + op.key() + " (only "
                            + PRODUCE + " and " + FETCH + "; requests per second with strata quotas)");
                }
            }
            if (validateOnly) {
                return CompletableFuture.completedFuture(null);
            }
            if (produce == 0 && fetch == 0 && requests == 0) {
                return store.removeQuota(entity).thenApply(x -> null);
            }
            return store.putQuota(new Quota(entity, produce, fetch, requests));
        });
    }

    private static long rate(AlterClientQuotasRequestData.OpData op) {
        if (!(op.value() > 0) || op.value() > Long.MAX_VALUE) {
            throw new IllegalArgumentException(op.key() + " is a positive number of bytes per second, not " + op.value());
        }
        return (long) op.value();
    }

}
